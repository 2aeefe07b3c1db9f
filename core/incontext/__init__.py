"""In-context editing: continue a clip, inpaint a region, extend and close loops."""
