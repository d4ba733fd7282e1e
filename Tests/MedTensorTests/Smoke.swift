import Testing
@testable import MedTensor
