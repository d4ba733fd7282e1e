import Testing
@testable import MedLayers
