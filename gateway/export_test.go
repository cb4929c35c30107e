package gateway

// MaxRebuilds is how many kept answers are rebuilt at once at most.
const MaxRebuilds = maxRebuilds
