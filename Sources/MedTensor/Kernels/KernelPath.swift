import CMedKernels

/// The instruction-set path of the C kernels (see `CMedKernels.h`).
///
/// Chosen once per process from the CPU's features; `MEDTENSOR_ISA=avx512|avx2|neon|portable` forces a
/// path (falling back to the best supported one below it), which is how the tests run every path.
public enum KernelPath: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case portable = 0
    case avx2 = 1
    case avx512 = 2
    case neon = 3

    /// The path in use.
    public static var active: KernelPath { KernelPath(rawValue: mk_isa_active()) ?? .portable }
    /// The path `MEDTENSOR_ISA` asked for, if any.
    public static var requested: KernelPath? { KernelPath(rawValue: mk_isa_requested()) }
    /// Whether this CPU (and build) can run the path.
    public var isSupported: Bool { mk_isa_supported(rawValue) != 0 }

    /// Switches every kernel to `path` for the rest of the process; false (no change) when unsupported.
    @discardableResult
    public static func select(_ path: KernelPath) -> Bool { mk_isa_select(path.rawValue) == 0 }

    public var description: String { String(cString: mk_isa_name(rawValue)) }
}
