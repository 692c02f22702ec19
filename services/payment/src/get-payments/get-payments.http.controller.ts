import { Controller, Get, Query } from '@nestjs/common';
import { parseRequest } from '@booking/platform';
import { PaymentRepository } from '../payments/payment.repository';
import { getPaymentsQuery } from './get-payments.request';
import { GetPaymentsResponse, toGetPaymentsResponse } from './get-payments.response';

/** What happened to an appointment's money, for the gateway and for tests. */
@Controller('payments')
export class GetPaymentsHttpController {
  constructor(private readonly payments: PaymentRepository) {}

  @Get()
  async get(@Query() query: unknown): Promise<GetPaymentsResponse> {
    const { appointmentId } = parseRequest(getPaymentsQuery, query, 'query');
    return toGetPaymentsResponse(appointmentId, await this.payments.ledgerOf(appointmentId));
  }
}
