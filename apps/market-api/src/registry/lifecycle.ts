import type { LifecycleState } from '@suanli/contracts';
import { invalidState } from '../common/errors.js';

// The plan's 准备、连接、调度、运行、退出 as a graph; anything else is refused.
const NEXT: Record<LifecycleState, readonly LifecycleState[]> = {
  prepared: ['connected', 'retired'],
  connected: ['schedulable', 'retired'],
  schedulable: ['running', 'connected', 'retired'],
  running: ['schedulable', 'retired'],
  retired: [],
};

export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  return NEXT[from].includes(to);
}

export function allowedTransitions(from: LifecycleState): readonly LifecycleState[] {
  return NEXT[from];
}

/** Refuses a transition outside the graph: 409 `invalid_state` naming the current state. */
export function assertTransition(from: LifecycleState, to: LifecycleState): void {
  if (!canTransition(from, to)) {
    throw invalidState(`the resource is ${from}: it cannot go to ${to}`, {
      state: from,
      from,
      to,
      allowed: NEXT[from],
    });
  }
}

export type LiveStatus = 'online' | 'degraded' | 'offline';

/** A heartbeat younger than this keeps a resource online. */
export const ONLINE_WINDOW_MS = 3 * 60_000;
/** Older than ONLINE_WINDOW_MS but younger than this: degraded; older: offline. */
export const DEGRADED_WINDOW_MS = 15 * 60_000;

const RANK: Record<LiveStatus, number> = { online: 0, degraded: 1, offline: 2 };

/**
 * Live status from the last heartbeat: online within 3 minutes, degraded within 15, offline
 * after that or without one. The status the agent itself last reported can only make it worse
 * (an agent that says it is degraded is not online however fresh its beat).
 */
export function liveStatus(
  lastHeartbeatAt: Date | null,
  now: Date,
  reported: LiveStatus | null = null,
): LiveStatus {
  if (!lastHeartbeatAt) return 'offline';
  const age = now.getTime() - lastHeartbeatAt.getTime();
  const byAge: LiveStatus =
    age <= ONLINE_WINDOW_MS ? 'online' : age <= DEGRADED_WINDOW_MS ? 'degraded' : 'offline';
  if (reported && RANK[reported] > RANK[byAge]) return reported;
  return byAge;
}

/**
 * SQL for "the resource `alias` is online" (the rule of liveStatus): its last beat is at or
 * after `sinceParam` (a placeholder bound to now − ONLINE_WINDOW_MS) and its agent did not
 * report worse.
 */
export function onlineSql(alias: string, sinceParam: string): string {
  return (
    `${alias}.last_heartbeat_at >= ${sinceParam}` +
    ` AND (${alias}.reported_status IS NULL OR ${alias}.reported_status = 'online')`
  );
}

/**
 * SQL for "the resource `alias` is not offline" (the rule of liveStatus): a beat at or after
 * `sinceParam` (bound to now − DEGRADED_WINDOW_MS) that did not report it offline.
 */
export function notOfflineSql(alias: string, sinceParam: string): string {
  return (
    `${alias}.last_heartbeat_at >= ${sinceParam}` +
    ` AND (${alias}.reported_status IS NULL OR ${alias}.reported_status <> 'offline')`
  );
}
