import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { asyncApiDocument } from '@booking/contracts';
import { renderAsyncApiPage } from './asyncapi-page';

/**
 * The events of the platform as an AsyncAPI 3 document, generated from libs/contracts, for teams that
 * consume the topics directly: `/asyncapi.json`, and `/asyncapi` as a page to read. Public, like
 * `/openapi.json`: it describes the contract, no data.
 */
@ApiExcludeController()
@Controller()
export class AsyncApiHttpController {
  private readonly document = asyncApiDocument();
  private readonly page = renderAsyncApiPage(this.document);

  @Get('asyncapi.json')
  json(): unknown {
    return this.document;
  }

  @Get('asyncapi')
  @Header('content-type', 'text/html; charset=utf-8')
  html(): string {
    return this.page;
  }
}
