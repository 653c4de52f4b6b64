/**
 * A run's result document from what the methods produced: the frame every run shares (tool, times,
 * git, machine, resolved scenario, comparison), for emulate mode (run.ts) and simulate mode (sim/).
 */
import { scenarioToJson, type Scenario } from '../options.ts';
import type { QuickResult } from './quick-result.ts';
import { VERSION } from '../version.ts';
import { SCHEMA_VERSION, type FleetResult, type Method, type PrecopyResult, type ResultDocument, type SimulationInfo } from './document.ts';
import { captureEnvironment, captureGit } from './environment.ts';
import { compareMethods } from './method-comparison.ts';

export function runDocument(r: {
  scenario: Scenario;
  startedAt: Date;
  mode: ResultDocument['mode'];
  methods: readonly Method[];
  precopy: PrecopyResult | null;
  quick: QuickResult | null;
  simulation?: SimulationInfo;
  fleet?: FleetResult | null;
}): ResultDocument {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'migbench', version: VERSION },
    startedAt: r.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git: captureGit(),
    env: captureEnvironment(),
    scenario: scenarioToJson(r.scenario),
    mode: r.mode,
    ...(r.simulation ? { simulation: r.simulation } : {}),
    ...(r.fleet !== undefined ? { fleet: r.fleet } : {}),
    methods: [...r.methods],
    precopy: r.precopy,
    quick: r.quick,
    comparison: r.precopy && r.quick ? compareMethods(r.precopy, r.quick) : null,
  };
}
