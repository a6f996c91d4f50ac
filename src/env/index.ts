export { measureEnvironment, measureEnvVars, maskUrlCredentials, isBuildAffecting, COMPILERS, type MeasureOptions } from './measure.js';
export { resolvePythonCommand, probePython, type PythonFacts } from './python.js';
