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

  /**
   * The calling assessor's accreditation level, the weight the credibility formula gives its
   * evaluations, and its signing keys.
   *
   * @summary Get the caller's assessor profile
   */
  @Roles('assessor')
  @Get('assessors/me')
  me(@CurrentPrincipal() p: Principal) {
    return this.credibility.assessor(p.orgId);
  }

  /**
   * Adds a public Ed25519 key (a JWK with a `kid`) the assessor signs its evaluations with.
   * Evaluations are verified against the assessor's active keys.
   *
   * @summary Register an assessor signing key
   */
  @Roles('assessor')
  @Post('assessors/me/keys')
  registerKey(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.credibility.registerKey(
      p.orgId,
      parseInput(registerAssessorKeySchema, body).publicJwk,
    );
  }

  /**
   * Registers a new key and, when `retire` is given, retires that old key in the same step. Answers
   * all the assessor's keys.
   *
   * @summary Rotate the assessor signing key
   */
  @Roles('assessor')
  @Post('assessors/me/keys/rotate')
  async rotateKey(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const req = parseInput(rotateAssessorKeySchema, body);
    return { items: await this.credibility.rotateKey(p.orgId, req.publicJwk, req.retire) };
  }

  /**
   * A retired key verifies no new evaluation; evaluations it signed before stay valid.
   *
   * @summary Retire an assessor signing key
   * @param kid The key id (`kid` of the JWK) to retire, e.g. `lab-key-2026-11`.
   */
  @Roles('assessor')
  @Post('assessors/me/keys/:kid/retire')
  @HttpCode(200)
  retireKey(@CurrentPrincipal() p: Principal, @Param('kid') kid: string) {
    return this.credibility.retireKey(p.orgId, kid);
  }

  /**
   * The assessor's active public keys as a JSON Web Key Set, to verify its evaluations offline.
   *
   * @summary Get an assessor's public keys (JWKS)
   */
  @Public()
  @Get('assessors/:orgId/jwks.json')
  jwks(@Param('orgId', ParseUUIDPipe) orgId: string) {
    return this.credibility.jwks(orgId);
  }

  /**
   * An assessor's name, accreditation level and the weight its evaluations carry.
   *
   * @summary Get an assessor's public profile
   */
  @Public()
  @Get('assessors/:orgId')
  assessor(@Param('orgId', ParseUUIDPipe) orgId: string) {
    return this.credibility.assessor(orgId);
  }

  /**
   * Operators set the accreditation level (1 to 3) of an assessor; the level scales the weight of
   * its evaluations in credibility scores.
   *
   * @summary Set an assessor's accreditation level
   */
  @Roles('operator')
  @Post('admin/assessors/:orgId/accreditation')
  @HttpCode(200)
  accredit(@Param('orgId', ParseUUIDPipe) orgId: string, @Body() body: unknown) {
    return this.credibility.accredit(orgId, parseInput(accreditationSchema, body).level);
  }

  // ---------- evaluations ----------

  /**
   * The evaluation methods an assessor may name in an evaluation, with how many observations each
   * counts for in the credibility formula.
   *
   * @summary List evaluation methods
   */
  @Public()
  @Get('evaluation-methods')
  async methods() {
    return { items: await this.credibility.methods() };
  }

  /**
   * A compact JWS, as `application/jose` or JSON `{ "jws": "…" }`.
   *
   * An assessor submits an evaluation of a resource or seller as a compact JWS signed with one of
   * its registered keys.
   *
   * @summary Submit a signed evaluation
   */
  @Roles('assessor')
  @Post('evaluations')
  async submit(@CurrentPrincipal() p: Principal, @Req() req: Request, @Body() body: unknown) {
    const raw = await joseBody(req);
    const jws = raw ?? parseInput(submitEvaluationSchema, body).jws;
    return this.credibility.submit(p.orgId, jws);
  }

  /**
   * Published evaluations, newest first, optionally only those of one assessor or about one
   * subject.
   *
   * @summary List evaluations
   */
  @Public()
  @Get('evaluations')
  async list(@Query() query: unknown) {
    return { items: await this.credibility.list(parseInput(evaluationListSchema, query)) };
  }

  /**
   * One evaluation with its verified claims and the compact JWS it was submitted as.
   *
   * @summary Get an evaluation
   * @param id The evaluation's id (a UUID).
   */
  @Public()
  @Get('evaluations/:id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.credibility.get(id);
  }

  /**
   * The assessor that published an evaluation withdraws it, with a reason; it stops counting in
   * credibility scores.
   *
   * @summary Revoke an evaluation
   * @param id The evaluation's id (a UUID).
   */
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

  /**
   * Operators record the outcome of a dispute about a lease; it counts as evidence in the
   * credibility scores of the resource and its seller.
   *
   * @summary Record a dispute outcome (operators)
   */
  @Roles('operator')
  @Post('admin/disputes')
  recordDispute(@Body() body: unknown) {
    return this.credibility.recordDispute(parseInput(recordDisputeSchema, body));
  }

  // ---------- scores ----------

  /**
   * The parameters and the formula of the credibility score (a beta reputation with time decay), as
   * published, so anyone can recompute a score from the evidence.
   *
   * @summary Get the credibility formula
   */
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

  /**
   * The resource's score (0 to 100), its confidence (0 to 1) and the evidence totals it was
   * computed from.
   *
   * @summary Get a resource's credibility score
   * @param id The resource's id (a UUID).
   */
  @Public()
  @Get('credibility/resources/:id')
  resource(@Param('id', ParseUUIDPipe) id: string) {
    return this.scores.view('resource', id);
  }

  /**
   * Every piece of evidence (leases, telemetry, evaluations, disputes) that counts towards the
   * resource's score, with its weight and decay.
   *
   * @summary List the evidence behind a resource's score
   * @param id The resource's id (a UUID).
   */
  @Public()
  @Get('credibility/resources/:id/evidence')
  resourceEvidence(@Param('id', ParseUUIDPipe) id: string) {
    return this.scores.evidence('resource', id);
  }

  /**
   * The seller's score (0 to 100), its confidence (0 to 1) and the evidence totals over its
   * resources.
   *
   * @summary Get a seller's credibility score
   * @param orgId The seller organization's id (a UUID).
   */
  @Public()
  @Get('credibility/sellers/:orgId')
  seller(@Param('orgId', ParseUUIDPipe) orgId: string) {
    return this.scores.view('seller', orgId);
  }

  /**
   * Every piece of evidence that counts towards the seller's score, with its weight and decay.
   *
   * @summary List the evidence behind a seller's score
   * @param orgId The seller organization's id (a UUID).
   */
  @Public()
  @Get('credibility/sellers/:orgId/evidence')
  sellerEvidence(@Param('orgId', ParseUUIDPipe) orgId: string) {
    return this.scores.evidence('seller', orgId);
  }

  /**
   * `?scope=stale` recomputes only resources with new lease or telemetry evidence.
   *
   * @summary Recompute credibility scores (operators)
   * @param scope `stale` recomputes only resources with new evidence; anything else (or nothing)
   * recomputes every score.
   */
  @Roles('operator')
  @Post('admin/credibility/recompute')
  @HttpCode(200)
  recompute(@Query('scope') scope?: string) {
    return scope === 'stale' ? this.scores.recomputeStale() : this.scores.recomputeAll();
  }
}
