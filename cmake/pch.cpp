// Anchor translation unit for the torch precompiled header (rfx_pch).
