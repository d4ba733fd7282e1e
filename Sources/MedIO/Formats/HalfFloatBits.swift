/// Bit-level conversions between Float32 and the two 16-bit float formats.
///
/// Done on bit patterns rather than with Swift's `Float16` because `Float16` is unavailable on some
/// platforms (macOS on Intel) and because the results must match numpy and PyTorch bit for bit.
enum HalfFloatBits {
    /// IEEE binary16 → Float32. Exact: every half value is a float value; NaN payloads are kept.
    @inline(__always)
    static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1f
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0x1f {
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Subnormal (or zero): mantissa × 2^-24, exact in Float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// Float32 → IEEE binary16 with round-to-nearest-even, bit-identical to numpy's `astype(np.float16)`:
    /// overflow goes to ±Inf, tiny values to subnormals or ±0, and NaN keeps its sign and the top
    /// payload bits (numpy does not force the quiet bit; it only keeps the result a NaN).
    @inline(__always)
    static func half(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let magnitude = bits & 0x7fff_ffff
        if magnitude >= 0x7f80_0000 {
            if magnitude == 0x7f80_0000 { return sign | 0x7c00 }
            let payload = UInt16(truncatingIfNeeded: (magnitude & 0x007f_ffff) >> 13)
            return sign | 0x7c00 | (payload == 0 ? 1 : payload)
        }
        // 65520 is halfway between 65504 (the largest half) and 65536; the tie goes to the even side, Inf.
        if magnitude >= 0x477f_f000 { return sign | 0x7c00 }
        if magnitude >= 0x3880_0000 {
            // Normal half: rebias the exponent (127 → 15) and round away the low 13 mantissa bits.
            // A carry out of the mantissa correctly bumps the exponent.
            let rebiased = magnitude - 0x3800_0000
            let rounded = rebiased + 0x0fff + ((rebiased >> 13) & 1)
            return sign | UInt16(truncatingIfNeeded: rounded >> 13)
        }
        let exponent = magnitude >> 23
        // Below 2^-25 (half the smallest subnormal) everything rounds to zero; 2^-25 itself ties to zero.
        if exponent < 102 { return sign }
        // Subnormal half: the value in units of 2^-24 is significand >> (126 - exponent), rounded to even.
        let significand = (magnitude & 0x007f_ffff) | 0x0080_0000
        let shift = 126 - exponent
        var result = significand >> shift
        let remainder = significand & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if remainder > halfway || (remainder == halfway && result & 1 == 1) { result += 1 }
        return sign | UInt16(truncatingIfNeeded: result)
    }

    /// bfloat16 → Float32: the top half of the float's bits. Exact.
    @inline(__always)
    static func float(fromBFloat b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// Float32 → bfloat16 with round-to-nearest-even, bit-identical to PyTorch's `.to(torch.bfloat16)` for
    /// every non-NaN input. NaN becomes the quiet NaN `0x7fc0` with the input's sign (as Eigen, ml_dtypes
    /// and the hardware instruction do); PyTorch itself differs between its scalar path (`0x7fc0`) and its
    /// vectorised path (`0xffff`), so no single bit pattern matches it everywhere.
    @inline(__always)
    static func bfloat(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7fff_ffff > 0x7f80_0000 {
            return UInt16(truncatingIfNeeded: bits >> 16) & 0x8000 | 0x7fc0
        }
        // Cannot overflow: the largest non-NaN pattern is 0xff80_0000 (-Inf).
        let rounded = bits + 0x7fff + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }
}
