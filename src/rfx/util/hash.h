// Stable hashing (same value on every platform and run), for cell keys and seeds.
#pragma once
#include <cstdint>
#include <string>

namespace rfx {

// 64-bit FNV-1a of the bytes.
uint64_t Fnv1a64(const std::string& bytes);

// 16 lowercase hex digits.
std::string HexDigest(uint64_t h);

// SplitMix64 finaliser: a well-mixed 64-bit value from any 64-bit value.
uint64_t Mix64(uint64_t x);

// A seed for stream `stream` of item `index` under `seed`: use it to make sample i's
// randomness a pure function of (seed, i).
uint64_t DeriveSeed(uint64_t seed, uint64_t stream, uint64_t index);

}  // namespace rfx
