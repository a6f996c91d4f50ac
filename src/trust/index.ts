// Trust: the one path from stored seals to a verdict. A session verifies each stored seal once per run;
// evaluate() is the pure verdict (the policy's decision, and whether the candidate's own key counted).
export { evaluate, reevaluate, type TrustEvidence, type TrustInput, type TrustPurpose, type Verdict } from './evaluate.js';
export { TrustSession, type TrustStore } from './session.js';
