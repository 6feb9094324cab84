// Anchor translation unit for the shared precompiled header (and for empty components).
