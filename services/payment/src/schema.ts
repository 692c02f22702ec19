/** The Postgres schema the payment service owns; it touches no other. */
export const PAYMENT_SCHEMA = 'payment';
