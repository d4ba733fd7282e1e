#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `open(2)` under a name that does not collide with methods called `open`.
func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
    open(path, flags, mode)
}

/// `strerror(errno)` as a String.
func lastErrorText() -> String { String(cString: strerror(errno)) }
