import Testing
@testable import MedModels
