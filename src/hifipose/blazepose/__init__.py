"""Pure numpy stages of the BlazePose pipeline, in data-flow order (no state, no runtime)."""
