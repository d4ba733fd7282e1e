import Testing
@testable import MedTraining
