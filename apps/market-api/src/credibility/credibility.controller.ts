import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  accreditationSchema,
  evaluationListSchema,
  recordDisputeSchema,
  registerAssessorKeySchema,
  revokeEvaluationSchema,
  rotateAssessorKeySchema,
  submitEvaluationSchema,
} from '@suanli/contracts';
import type { Request } from 'express';
import { DomainError } from '../common/errors.js';
import { parseInput } from '../common/validation.js';
import { CurrentPrincipal, type Principal, Public, Roles } from '../auth/auth.decorators.js';
import { CredibilityService } from './credibility.service.js';
import { ScoresService } from './scores.service.js';
import { BETA_V1 } from './scoring.js';

const MAX_JOSE_BYTES = 64 * 1024;

/** The body as text when it is `application/jose` (the JSON parser leaves such bodies alone). */
async function joseBody(req: Request): Promise<string | null> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/jose') return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JOSE_BYTES) {
      throw new DomainError('invalid_jws', 'the JWS is too large', 400, { max: MAX_JOSE_BYTES });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

@Controller('v1')
export class CredibilityController {
  constructor(
    private readonly credibility: CredibilityService,
    private readonly scores: ScoresService,
  ) {}

  // ---------- assessors and keys ----------

  @Roles('assessor')
  @Get('assessors/me')
  me(@CurrentPrincipal() p: Principal) {
    return this.credibility.assessor(p.orgId);
  }

  @Roles('assessor')
  @Post('assessors/me/keys')
  registerKey(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.credibility.registerKey(
      p.orgId,
      parseInput(registerAssessorKeySchema, body).publicJwk,
    );
  }

  @Roles('assessor')
  @Post('assessors/me/keys/rotate')
  async rotateKey(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const req = parseInput(rotateAssessorKeySchema, body);
    return { items: await this.credibility.rotateKey(p.orgId, req.publicJwk, req.retire) };
  }

  @Roles('assessor')
  @Post('assessors/me/keys/:kid/retire')
  @HttpCode(200)
  retireKey(@CurrentPrincipal() p: Principal, @Param('kid') kid: string) {
    return this.credibility.retireKey(p.orgId, kid);
  }

  @Public()
  @Get('assessors/:orgId/jwks.json')
  jwks(@Param('orgId', ParseUUIDPipe) orgId: string) {
    return this.credibility.jwks(orgId);
  }

  @Public()
  @Get('assessors/:orgId')
  assessor(@Param('orgId', ParseUUIDPipe) orgId: string) {
    return this.credibility.assessor(orgId);
  }

  @Roles('operator')
  @Post('admin/assessors/:orgId/accreditation')
  @HttpCode(200)
  accredit(@Param('orgId', ParseUUIDPipe) orgId: string, @Body() body: unknown) {
    return this.credibility.accredit(orgId, parseInput(accreditationSchema, body).level);
  }

  // ---------- evaluations ----------

  @Public()
  @Get('evaluation-methods')
  async methods() {
    return { items: await this.credibility.methods() };
  }

  /** A compact JWS, as `application/jose` or JSON `{ "jws": "…" }`. */
  @Roles('assessor')
  @Post('evaluations')
  async submit(@CurrentPrincipal() p: Principal, @Req() req: Request, @Body() body: unknown) {
    const raw = await joseBody(req);
    const jws = raw ?? parseInput(submitEvaluationSchema, body).jws;
    return this.credibility.submit(p.orgId, jws);
  }

  @Public()
  @Get('evaluations')
  async list(@Query() query: unknown) {
    return { items: await this.credibility.list(parseInput(evaluationListSchema, query)) };
  }

  @Public()
  @Get('evaluations/:id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.credibility.get(id);
  }

  @Roles('assessor')
  @Post('evaluations/:id/revoke')
  @HttpCode(200)
  revoke(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.credibility.revoke(p.orgId, id, parseInput(revokeEvaluationSchema, body).reason);
  }

  // ---------- disputes ----------

  @Roles('operator')
  @Post('admin/disputes')
  recordDispute(@Body() body: unknown) {
    return this.credibility.recordDispute(parseInput(recordDisputeSchema, body));
  }

  // ---------- scores ----------

  @Public()
  @Get('credibility/formula')
  formula() {
    return {
      ...BETA_V1,
      score: 'score = 100 × (r + 1) / (r + s + 2)',
      decay: 'each piece of evidence weighs 0.5^(age_days / halfLifeDays)',
      evaluations: 'w = observations(method) × assessorWeight × decay; r += w·q, s += w·(1 − q)',
      assessorWeight:
        'accreditationWeights[level] × (A + 1) / (A + D + 1); A = Σ(1 − |claimed − observed|), D = Σ|claimed − observed| over availability claims with ≥ minAgreementHours observed after',
      confidence: 'W / (W + confidenceK), W = r + s',
    };
  }

  @Public()
  @Get('credibility/resources/:id')
  resource(@Param('id', ParseUUIDPipe) id: string) {
    return this.scores.view('resource', id);
  }

  @Public()
  @Get('credibility/resources/:id/evidence')
  resourceEvidence(@Param('id', ParseUUIDPipe) id: string) {
    return this.scores.evidence('resource', id);
  }

  @Public()
  @Get('credibility/sellers/:orgId')
  seller(@Param('orgId', ParseUUIDPipe) orgId: string) {
    return this.scores.view('seller', orgId);
  }

  @Public()
  @Get('credibility/sellers/:orgId/evidence')
  sellerEvidence(@Param('orgId', ParseUUIDPipe) orgId: string) {
    return this.scores.evidence('seller', orgId);
  }

  /** `?scope=stale` recomputes only resources with new lease or telemetry evidence. */
  @Roles('operator')
  @Post('admin/credibility/recompute')
  @HttpCode(200)
  recompute(@Query('scope') scope?: string) {
    return scope === 'stale' ? this.scores.recomputeStale() : this.scores.recomputeAll();
  }
}
