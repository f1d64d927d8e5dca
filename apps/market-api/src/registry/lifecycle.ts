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

export function assertTransition(from: LifecycleState, to: LifecycleState): void {
  if (!canTransition(from, to)) {
    throw invalidState(`a resource cannot go from ${from} to ${to}`, {
      from,
      to,
      allowed: NEXT[from],
    });
  }
}

/** Live status from the last heartbeat: online within 3 windows, degraded within 15 min. */
export function liveStatus(
  lastHeartbeatAt: Date | null,
  now: Date,
): 'online' | 'degraded' | 'offline' {
  if (!lastHeartbeatAt) return 'offline';
  const age = now.getTime() - lastHeartbeatAt.getTime();
  if (age <= 3 * 60_000) return 'online';
  if (age <= 15 * 60_000) return 'degraded';
  return 'offline';
}
