"""Generation: requests, the engine, the sampling loop, CLAP scoring, latents, progress, presets."""
