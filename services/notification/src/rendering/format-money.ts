import { plainSpaces } from './message';

/**
 * Minor units (the contracts' integers) as the recipient reads money, e.g. 150000 JPY → "¥150,000",
 * 4550 USD → "$45.50". The exponent comes from the currency, not from the recipient's locale.
 */
export function formatMoney(minor: number, currency: string, locale: string): string {
  const exponent = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return plainSpaces(new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 10 ** exponent));
}
