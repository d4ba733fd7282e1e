import Testing
@testable import MedMNISTData
