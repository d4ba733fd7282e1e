import Foundation

// One libFuzzer entry for the targets compiled into one binary (the MedIO targets share their module's build):
// FUZZ_TARGET names the one to run.
nonisolated(unsafe) let selectedTarget: (UnsafePointer<UInt8>, Int) -> Int32 = {
    switch ProcessInfo.processInfo.environment["FUZZ_TARGET"] {
    case "npy": fuzzNpy
    case "safetensors": fuzzSafeTensors
    case "zip": fuzzZip
    case "pickle": fuzzPickle
    default: fatalError("set FUZZ_TARGET to npy, safetensors, zip or pickle")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 { selectedTarget(data, size) }
