import fc from 'fast-check';

// Property tests are deterministic: the same seed every run, so CI never flakes on a rare case.
// Explore other cases with FC_SEED=<n> (fast-check prints the seed and path of any failure).
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20_261_123) });
