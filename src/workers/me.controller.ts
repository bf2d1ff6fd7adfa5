import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticatedErrors } from '../common/openapi/api-errors.decorator';
import { WorkersService } from './workers.service';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';

export class MeResponse {
  @ApiProperty({ example: 'usr_7f3a', description: 'The JWT `sub`; also the worker id.' })
  id: string;

  @ApiProperty({ type: String, nullable: true, example: 'qa@example.com' })
  email: string | null;

  @ApiProperty({ example: 'user', description: 'As the token carries it, e.g. `admin,user`.' })
  role: string;

  @ApiProperty({ example: false, description: 'True when any of the roles is `admin`.' })
  is_admin: boolean;

  @ApiProperty({
    enum: ['human', 'agent'],
    example: 'human',
    description: 'From the worker registry; `human` unless registered as an agent.',
  })
  worker_type: 'human' | 'agent';
}

/** `/api/me`: who the token says the caller is. */
@ApiTags('identity')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/me')
export class MeController {
  constructor(private readonly workers: WorkersService) {}

  @Get()
  @ApiOperation({
    summary: 'The caller: identity from the token, and worker type',
    description:
      'What the token says (`sub`, email, roles) and what the worker registry says (`human` unless registered as an `agent`).',
  })
  @ApiOkResponse({ type: MeResponse, description: 'The caller' })
  async me(@CurrentUser() user: AuthUser): Promise<MeResponse> {
    return {
      id: user.id,
      email: user.email,
      role: user.role,
      is_admin: user.isAdmin,
      worker_type: await this.workers.typeOf(user.id),
    };
  }
}
