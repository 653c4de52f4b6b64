/**
 * How many migrations of a fleet (a host evacuation, simulate mode) run at once, and which key says so.
 * KubeVirt's migration controller (virt-controller's migration watch, pkg/virt-controller/watch; the
 * defaults ParallelOutboundMigrationsPerNodeDefault 2 and ParallelMigrationsPerClusterDefault 5 are in
 * pkg/virt-config) keeps a migration pending while `parallelMigrationsPerCluster` run in the cluster
 * or `parallelOutboundMigrationsPerNode` run out of its source node; evacuating one node, both
 * caps bound the same migrations, so the lower one holds. `fleet.concurrency` is the user's own bound on
 * top ("at most this many at a time"): the lowest of the three wins, ties going to KubeVirt's key. A
 * `fleet.concurrency` above the caps is no contradiction (it is an upper bound; KubeVirt queues the
 * rest), so it is not refused. Other kinds have no cap of their own in their settings: `fleet.concurrency`
 * alone. Pure.
 */
import type { Scenario } from '../options.ts';

export interface FleetConcurrency {
  /** migrations at once */
  readonly concurrency: number;
  /** the key whose value that is */
  readonly by: 'fleet.concurrency' | 'orchestrator.parallelOutboundMigrationsPerNode' | 'orchestrator.parallelMigrationsPerCluster';
}

/** The fleet's migrations at once (1 without a fleet). */
export function fleetConcurrency(s: Pick<Scenario, 'fleet' | 'orchestrator'>): FleetConcurrency {
  const own = s.fleet?.concurrency ?? 1;
  const o = s.orchestrator;
  if (o.kind !== 'kubevirt') return { concurrency: own, by: 'fleet.concurrency' };
  const candidates: FleetConcurrency[] = [
    { concurrency: o.parallelOutboundMigrationsPerNode, by: 'orchestrator.parallelOutboundMigrationsPerNode' },
    { concurrency: o.parallelMigrationsPerCluster, by: 'orchestrator.parallelMigrationsPerCluster' },
    { concurrency: own, by: 'fleet.concurrency' },
  ];
  return candidates.reduce((best, c) => (c.concurrency < best.concurrency ? c : best));
}
