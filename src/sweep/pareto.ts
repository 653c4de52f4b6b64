/** The sweep's trade-off (the Pareto frontier, the recommendation) lives in src/results/pareto.ts: statistics on sweep documents, which report/ reads too. */
export { OBJECTIVES, objectiveValue, paretoFrontier, recommend, type Objective, type PointFigures, type Recommendation } from '../results/pareto.ts';
