import Foundation
import MedTestSupport
import MedTensor
import Testing
@testable import MedMNISTData

@Suite struct EvaluatorTests {
    struct Case {
        let name: String
        let task: MedMNISTTask
        let fields: [String: Any]
        let labels: IndexTensor
        let scores: ScoreArray
    }

    static func cases() throws -> [Case] {
        let cases = try Fixtures.json("data/evaluator/cases.json")["cases"] as! [[String: Any]]
        return try cases.map { c in
            let name = c["name"] as! String
            return Case(name: name, task: MedMNISTTask(rawValue: c["task"] as! String)!, fields: c,
                        labels: try Fixtures.labels("data/evaluator/\(name)_labels.npy"),
                        scores: try ScoreArray(Fixtures.npy("data/evaluator/\(name)_scores.npy")))
        }
    }

    /// ACC, AUC and per-class AUCs against medmnist.evaluator.getACC/getAUC and sklearn, every task type.
    @Test func parityWithThePackage() throws {
        var worst = 0.0
        var tasks = Set<MedMNISTTask>()
        for c in try Self.cases() where c.fields["expect_error"] == nil {
            let metrics = try MedMNISTMetrics.evaluate(labels: c.labels, scores: c.scores, task: c.task)
            let acc = double(c.fields["acc"]), auc = double(c.fields["auc"])
            #expect(metrics.acc == acc, "\(c.name): ACC \(metrics.acc) vs package \(acc)")
            #expect(metrics.auc == auc, "\(c.name): AUC \(metrics.auc) vs package \(auc)")
            let per = try MedMNISTMetrics.perClassAUC(labels: c.labels, scores: c.scores, task: c.task)
            let expected = (c.fields["per_class_auc"] as! [Any]).map { double($0) }
            #expect(per.count == expected.count, "\(c.name)")
            for (a, b) in zip(per, expected) { worst = max(worst, abs(a - b)) }
            worst = max(worst, abs(metrics.auc - auc))
            tasks.insert(c.task)
        }
        #expect(worst == 0, "largest AUC difference \(worst)")
        #expect(tasks == Set(MedMNISTTask.allCases))
    }

    @Test func binaryScoresAsN2N1AndNAgree() throws {
        let cases = try Self.cases().filter { $0.name.hasPrefix("binary_n") }
        #expect(cases.count == 3)
        let results = try cases.map { try MedMNISTMetrics.evaluate(labels: $0.labels, scores: $0.scores, task: .binaryClass) }
        #expect(results.allSatisfy { $0 == results[0] })
    }

    @Test func anAbsentClassIsAnError() throws {
        let c = try Self.cases().first { $0.name == "multiclass_absent_class" }!
        #expect(c.fields["package_auc"] is NSNull)  // the package returns NaN (with a warning) here
        #expect(throws: EvaluationError.undefinedAUC(column: 3, task: .multiClass, positives: 0, negatives: 60)) {
            try MedMNISTMetrics.auc(labels: c.labels, scores: c.scores, task: .multiClass)
        }
        // ACC stays defined, as in the package.
        _ = try MedMNISTMetrics.accuracy(labels: c.labels, scores: c.scores, task: .multiClass)
    }

    @Test func tiesGetAverageRanks() throws {
        // sklearn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75; all tied = 0.5.
        let labels = IndexTensor(shape: [4, 1], values: [0, 0, 1, 1])
        #expect(try MedMNISTMetrics.auc(labels: labels, scores: ScoreArray(shape: [4], values: [0.1, 0.4, 0.35, 0.8]), task: .binaryClass) == 0.75)
        #expect(try MedMNISTMetrics.auc(labels: labels, scores: ScoreArray(shape: [4], values: [0.5, 0.5, 0.5, 0.5]), task: .binaryClass) == 0.5)
        // One tie across classes: positives {0.5, 0.9}, negatives {0.5, 0.1} → (1 + 0.5 + 1 + 1) / 4.
        #expect(try MedMNISTMetrics.auc(labels: labels, scores: ScoreArray(shape: [4], values: [0.5, 0.1, 0.5, 0.9]), task: .binaryClass) == 0.875)
    }

    @Test func wrongShapesAndValuesAreTypedErrors() {
        let labels = IndexTensor(shape: [4, 1], values: [0, 1, 2, 1])
        #expect(throws: EvaluationError.self) {
            try MedMNISTMetrics.auc(labels: labels, scores: ScoreArray(shape: [4], values: [0.1, 0.2, 0.3, 0.4]), task: .multiClass)
        }
        #expect(throws: EvaluationError.self) {
            try MedMNISTMetrics.auc(labels: labels, scores: ScoreArray(shape: [3, 3], values: Array(repeating: 0.3, count: 9)), task: .multiClass)
        }
        #expect(throws: EvaluationError.nonBinaryLabel(column: 0, value: 2)) {
            try MedMNISTMetrics.auc(labels: labels, scores: ScoreArray(shape: [4], values: [0.1, 0.2, 0.3, 0.4]), task: .binaryClass)
        }
        #expect(throws: EvaluationError.notANumber(index: 1)) {
            try MedMNISTMetrics.auc(labels: IndexTensor(shape: [4, 1], values: [0, 1, 0, 1]),
                                    scores: ScoreArray(shape: [4], values: [0.1, .nan, 0.3, 0.4]), task: .binaryClass)
        }
        #expect(throws: EvaluationError.infinite(index: 2, value: -.infinity)) {
            try MedMNISTMetrics.auc(labels: IndexTensor(shape: [4, 1], values: [0, 1, 0, 1]),
                                    scores: ScoreArray(shape: [4], values: [0.1, 0.2, -.infinity, 0.4]), task: .binaryClass)
        }
        #expect(throws: EvaluationError.self) {
            try MedMNISTMetrics.auc(labels: IndexTensor(shape: [2, 3], values: [0, 1, 0, 1, 0, 1]),
                                    scores: ScoreArray(shape: [2, 2], values: [0.1, 0.2, 0.3, 0.4]), task: .multiLabelBinary)
        }
    }

    @Test func argmaxTakesTheFirstMaximum() throws {
        let labels = IndexTensor(shape: [2, 1], values: [1, 0])
        let scores = ScoreArray(rows: [[0.4, 0.4, 0.2], [0.3, 0.3, 0.4]])
        #expect(try MedMNISTMetrics.accuracy(labels: labels, scores: scores, task: .multiClass) == 0)
    }

    @Test func catalogEvaluatorChecksTheClassCount() throws {
        let info = try MedMNISTCatalog.info("bloodmnist")
        let labels = IndexTensor(shape: [3, 1], values: [0, 1, 7])
        let evaluator = try Evaluator(info: info, split: .test, labels: labels)
        #expect(throws: EvaluationError.self) { try evaluator.evaluate(ScoreArray(shape: [3, 7], values: Array(repeating: 0.1, count: 21))) }
        #expect(throws: EvaluationError.self) { try evaluator.evaluate(ScoreArray(shape: [2, 8], values: Array(repeating: 0.1, count: 16))) }
    }

    /// The CSV text equals pandas' `DataFrame(y_score).to_csv(header=None)`, float64 and float32 alike.
    @Test func predictionCSVMatchesPandas() throws {
        let expected = try Fixtures.json("data/evaluator/cases.json")["csv_first5"] as! [String: String]
        for (name, text) in expected {
            var scores = try ScoreArray(Fixtures.npy("data/evaluator/\(name)_scores.npy"))
            let columns = scores.shape.count == 2 ? scores.shape[1] : 1
            scores = ScoreArray(shape: [5] + scores.shape.dropFirst(), values: Array(scores.values.prefix(5 * columns)),
                                isSinglePrecision: scores.isSinglePrecision)
            #expect(PredictionCSV.contents(scores) == text, "\(name)")
        }
        let meta = try Fixtures.json("data/npz/meta.json")["breastmnist"] as! [String: Any]
        let metrics = Metrics(auc: double(meta["auc"]), acc: double(meta["acc"]))
        #expect(PredictionCSV.standardFileName(flag: "breastmnist", size: 28, split: .test, metrics: metrics, run: "fixture")
                == meta["csv_name_run_fixture"] as! String)
        #expect(PredictionCSV.standardFileName(flag: "pathmnist", size: 64, split: .val, metrics: Metrics(auc: 0.9875, acc: 0.5), run: "3")
                == "pathmnist_64_val_[AUC]0.988_[ACC]0.500@3.csv")
    }

    @Test func predictionCSVRoundTrips() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        let scores = ScoreArray(rows: [[0.1, 0.9], [0.25, 0.75], [1e-7, 1 - 1e-7]])
        let url = try PredictionCSV.write(scores, flag: "breastmnist", size: 28, split: .test,
                                          metrics: Metrics(auc: 1, acc: 1), run: "0", folder: folder)
        #expect(url.lastPathComponent == "breastmnist_test_[AUC]1.000_[ACC]1.000@0.csv")
        #expect(try PredictionCSV.read(contentsOf: url) == scores)
    }
}
