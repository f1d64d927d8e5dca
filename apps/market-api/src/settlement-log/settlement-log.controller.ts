import { Controller, Get, Header, Param, Query, Res, StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import { TransparencyError } from '@suanli/transparency';
import {
  ConsistencyProofQuery,
  InclusionProofQuery,
  SellerRecordsQuery,
  SETTLEMENT_RECORD_KINDS,
  type Page,
  type RecordBundleView,
  type SettlementRecordKind,
} from '@suanli/contracts';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, type Principal, Public, Roles } from '../auth/auth.decorators.js';
import { DomainError, notFound } from '../common/errors.js';
import { parseInput } from '../common/validation.js';
import { bandRecord } from './amount-bands.js';
import {
  SettlementLogService,
  type CheckpointView,
  type LeafView,
} from './settlement-log.service.js';

function kindOf(kind: string): SettlementRecordKind {
  if (!(SETTLEMENT_RECORD_KINDS as readonly string[]).includes(kind)) {
    throw new DomainError(
      'validation_failed',
      `kind must be one of ${SETTLEMENT_RECORD_KINDS.join(', ')}`,
      400,
      { kind },
    );
  }
  return kind as SettlementRecordKind;
}

/** The settlement log: checkpoints and proofs (public), records for the parties to them. */
@Controller('v1')
export class SettlementLogController {
  constructor(
    private readonly log: SettlementLogService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /**
   * The latest signed checkpoint (a new one is signed when the tree grew).
   *
   * @summary Get the latest signed checkpoint
   */
  @Public()
  @Get('transparency/checkpoint')
  latest(): Promise<CheckpointView> {
    return this.log.latestCheckpoint();
  }

  /**
   * A checkpoint signed earlier, by its tree size.
   *
   * @summary Get the checkpoint of a tree size
   * @param treeSize The number of leaves the log had when the checkpoint was signed (a positive
   * integer).
   */
  @Public()
  @Get('transparency/checkpoints/:treeSize')
  ofSize(@Param('treeSize') treeSize: string): Promise<CheckpointView> {
    const { first } = parseInput(ConsistencyProofQuery, { first: treeSize, second: treeSize });
    return this.log.checkpointOfSize(first);
  }

  /**
   * The log as C2SP tlog-tiles (docs/decisions.md, "Settlement log as tiles"): the latest
   * checkpoint as a signed note, signed by the platform key under the log's origin.
   *
   * @summary Get the latest checkpoint as a signed note
   */
  @Public()
  @Get('transparency/log/checkpoint')
  @Header('content-type', 'text/plain; charset=utf-8')
  @Header('cache-control', 'no-cache')
  async noteCheckpoint(): Promise<string> {
    const cp = await this.log.latestCheckpoint();
    return cp.note ?? '';
  }

  /**
   * A tile (`tile/<L>/<N>[.p/<W>]`) or entry bundle (`tile/entries/<N>[.p/<W>]`): immutable.
   *
   * @summary Get a tile of the settlement log
   * @param path The tile's path below `tile/`: `<L>/<N>[.p/<W>]` for a hash tile at level L, or
   * `entries/<N>[.p/<W>]` for an entry bundle (C2SP tlog-tiles).
   */
  @Public()
  @Get('transparency/log/tile/*path')
  async tile(
    @Param('path') path: string | string[],
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const rel = `tile/${Array.isArray(path) ? path.join('/') : path}`;
    let data: Uint8Array | null;
    try {
      data = await this.log.tile(rel);
    } catch (e) {
      if (e instanceof TransparencyError) {
        throw new DomainError('validation_failed', e.message, 400, { path: rel });
      }
      throw e;
    }
    if (!data) throw notFound('tile', { path: rel });
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    return new StreamableFile(Buffer.from(data), { type: 'application/octet-stream' });
  }

  /**
   * The audit path proving that the leaf at `leafIndex` is in the tree of size `treeSize`: the
   * hashes (base64) to combine with the leaf hash up to the checkpoint's root (RFC 6962).
   *
   * @summary Get an inclusion proof
   */
  @Public()
  @Get('transparency/proofs/inclusion')
  inclusion(
    @Query() q: unknown,
  ): Promise<{ leafIndex: number; treeSize: number; hashes: string[] }> {
    const { leafIndex, treeSize } = parseInput(InclusionProofQuery, q);
    return this.log.inclusionProof(leafIndex, treeSize);
  }

  /**
   * The hashes (base64) proving that the tree of size `first` is a prefix of the tree of size
   * `second`, so an earlier checkpoint was not rewritten (RFC 6962).
   *
   * @summary Get a consistency proof
   */
  @Public()
  @Get('transparency/proofs/consistency')
  consistency(@Query() q: unknown): Promise<{ first: number; second: number; hashes: string[] }> {
    const { first, second } = parseInput(ConsistencyProofQuery, q);
    return this.log.consistencyProof(first, second);
  }

  /**
   * One record with its leaf, inclusion proof and checkpoint, for the buyer or seller it
   * concerns (404 for anyone else). Sellers see it pseudonymized, as everyone does.
   *
   * @summary Get a settlement record with its proofs
   * @param kind The record kind: `debit_note`, `invoice`, `payout` or `credit`.
   * @param id The record's id: the id of the debit note, invoice, payout or credit it records.
   */
  @Roles('buyer', 'seller')
  @Get('transparency/records/:kind/:id')
  async record(
    @CurrentPrincipal() p: Principal,
    @Param('kind') kind: string,
    @Param('id') id: string,
  ): Promise<RecordBundleView> {
    const k = kindOf(kind);
    const rows: { seller: string | null; buyer: string | null }[] = await this.db.query(
      `SELECT seller_org_id AS seller, buyer_org_id AS buyer FROM settlement_log_leaves
       WHERE kind = $1 AND record_id = $2`,
      [k, id],
    );
    const r = rows[0];
    const mine =
      r &&
      ((p.roles.includes('seller') && r.seller === p.orgId) ||
        (p.roles.includes('buyer') && r.buyer === p.orgId));
    const bundle = mine ? await this.log.bundleFor(k, id) : null;
    if (!bundle) throw notFound('settlement record', { kind: k, id });
    return bundle;
  }

  /**
   * The seller's own settlement records, as the log holds them (buyers pseudonymized).
   *
   * @summary List the seller's settlement records
   */
  @Roles('seller')
  @Get('seller/records')
  async sellerRecords(
    @CurrentPrincipal() p: Principal,
    @Query() q: unknown,
  ): Promise<Page<LeafView>> {
    const { kind, limit } = parseInput(SellerRecordsQuery, q);
    return { items: await this.log.recordsOfSeller(p.orgId, { kind, limit }) };
  }

  /**
   * Settlement records of the sellers whose resources the assessor has evaluated:
   * pseudonyms only, amounts banded, no line detail.
   *
   * @summary List settlement records for an assessor
   */
  @Roles('assessor')
  @Get('assessor/records')
  async assessorRecords(@CurrentPrincipal() p: Principal): Promise<Page<Record<string, unknown>>> {
    const sellers: { seller: string }[] = await this.db.query(
      'SELECT DISTINCT seller_org_id AS seller FROM evaluations WHERE assessor_org_id = $1',
      [p.orgId],
    );
    const leaves = await this.log.recordsOfSellers(sellers.map((s) => s.seller));
    return {
      items: leaves.map((l) => ({
        kind: l.kind,
        leafIndex: l.leafIndex,
        record: bandRecord(l.record as Record<string, unknown>),
      })),
    };
  }
}
