import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticatedErrors } from '../common/openapi/api-errors.decorator';
import { WithoutDatabase } from '../database/database-ready.guard';
import type { AuthUser } from './auth-user';
import { CurrentUser } from './current-user.decorator';

export class MeResponse {
  @ApiProperty({ example: 'usr_7f3a', description: 'The JWT `sub`; also the worker id.' })
  id: string;

  @ApiProperty({ type: String, nullable: true, example: 'qa@example.com' })
  email: string | null;

  @ApiProperty({ example: 'user', description: 'As the token carries it, e.g. `admin,user`.' })
  role: string;

  @ApiProperty({ example: false, description: 'True when any of the roles is `admin`.' })
  is_admin: boolean;

  @ApiProperty({ enum: ['human', 'agent'], example: 'human' })
  worker_type: 'human' | 'agent';
}

/** `/api/me`: who the token says the caller is. */
@ApiTags('identity')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/me')
export class MeController {
  @Get()
  @WithoutDatabase()
  @ApiOperation({ summary: 'The caller: identity from the token, and worker type' })
  @ApiOkResponse({ type: MeResponse })
  me(@CurrentUser() user: AuthUser): MeResponse {
    return {
      id: user.id,
      email: user.email,
      role: user.role,
      is_admin: user.isAdmin,
      worker_type: 'human',
    };
  }
}
