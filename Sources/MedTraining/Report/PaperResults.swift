/// The paper's published numbers (Doerrich et al., arXiv 2404.15786), transcribed from MEDMNIST.md: §1.7 the
/// average over the 12 datasets (end-to-end and linear probing: ACC and AUC, mean ± mean-of-stds; kNN: ACC only),
/// §1.8 per-dataset kNN ACC of every encoder, §1.9 per-dataset VGG16 end-to-end. Test split, percent. Models under
/// the grid's registry names (``GridSelection/paperModels``), datasets under their flags; sizes 28, 64, 128, 224.
///
/// Lookups match the model name exactly (`vit_base_patch16_224` and `vit_base_patch16_224.dino` are different
/// encoders); the cached linear probe is not in the paper and has no numbers.
public enum PaperResults {
    /// One published cell: ACC and AUC with their "±" (nil where the paper gives none, as for kNN).
    public struct Number: Sendable, Equatable {
        public var acc: Double
        public var accStd: Double?
        public var auc: Double?
        public var aucStd: Double?
    }

    /// The sizes of the tables' columns.
    public static let sizes = [28, 64, 128, 224]

    /// The average over the paper's 12 datasets (§1.7).
    public static func average(scheme: ExperimentScheme, model: String, size: Int) -> Number? {
        guard let column = sizes.firstIndex(of: size) else { return nil }
        switch scheme {
        case .endToEnd: return endToEndAverage.first { $0.model == model }?.number(column)
        case .linearProbe: return linearProbeAverage.first { $0.model == model }?.number(column)
        case .knn: return knnAverage.first { $0.model == model }.map { Number(acc: $0.acc[column]) }
        case .cachedLinearProbe: return nil
        }
    }

    /// One dataset's published cell: kNN for every encoder (§1.8, ACC only), end-to-end for VGG16 (§1.9).
    public static func perDataset(scheme: ExperimentScheme, model: String, size: Int, dataset: String) -> Number? {
        guard let column = sizes.firstIndex(of: size) else { return nil }
        switch scheme {
        case .knn: return knnPerDataset[dataset]?[model].map { Number(acc: $0[column]) }
        case .endToEnd where model == "vgg16": return vgg16EndToEndPerDataset[dataset]?.number(column)
        default: return nil
        }
    }

    struct PaperRow {
        var model: String
        var acc: [(Double, Double)]
        var auc: [(Double, Double)]
        init(_ model: String, acc: [(Double, Double)], auc: [(Double, Double)]) {
            self.model = model
            self.acc = acc
            self.auc = auc
        }
        func number(_ column: Int) -> Number {
            Number(acc: acc[column].0, accStd: acc[column].1, auc: auc[column].0, aucStd: auc[column].1)
        }
    }

    static let endToEndAverage: [PaperRow] = [
        PaperRow("vgg16", acc: [(82.34, 0.88), (85.33, 1.16), (86.64, 0.82), (86.70, 0.93)],
                 auc: [(92.66, 0.41), (94.24, 0.28), (95.16, 0.27), (95.30, 0.22)]),
        PaperRow("alexnet", acc: [(78.92, 0.81), (82.94, 0.78), (85.04, 0.74), (85.74, 0.64)],
                 auc: [(91.14, 0.43), (92.72, 0.33), (94.29, 0.30), (94.90, 0.23)]),
        PaperRow("resnet18", acc: [(79.66, 0.74), (83.42, 0.65), (85.73, 0.66), (86.22, 0.58)],
                 auc: [(90.92, 0.28), (92.49, 0.50), (93.91, 0.27), (94.51, 0.24)]),
        PaperRow("densenet121", acc: [(80.32, 0.93), (84.62, 0.80), (87.13, 0.56), (87.11, 0.64)],
                 auc: [(91.75, 0.55), (93.59, 0.23), (94.57, 0.21), (95.03, 0.23)]),
        PaperRow("efficientnet_b4", acc: [(73.18, 1.61), (79.37, 1.10), (82.52, 0.79), (82.44, 1.11)],
                 auc: [(87.04, 0.82), (90.07, 0.65), (91.89, 0.39), (91.64, 0.73)]),
        PaperRow("vit_base_patch16_224", acc: [(78.23, 0.88), (83.17, 0.92), (84.94, 0.93), (86.06, 0.92)],
                 auc: [(90.54, 0.47), (92.53, 0.69), (93.25, 0.35), (94.08, 0.38)]),
        PaperRow("vit_base_patch16_clip_224", acc: [(76.73, 0.80), (80.39, 0.99), (82.33, 1.02), (82.75, 1.01)],
                 auc: [(89.22, 1.11), (90.91, 0.51), (91.51, 0.31), (91.83, 0.58)]),
        PaperRow("eva02_base_patch16_clip_224", acc: [(76.69, 1.44), (80.77, 0.97), (82.76, 0.97), (84.72, 1.09)],
                 auc: [(88.91, 1.01), (90.53, 0.54), (91.59, 0.75), (92.60, 0.94)]),
        PaperRow("vit_base_patch16_224.dino", acc: [(78.51, 1.09), (82.13, 1.02), (84.31, 1.05), (84.84, 1.08)],
                 auc: [(91.02, 0.48), (91.94, 0.32), (92.91, 0.36), (93.90, 0.73)]),
        PaperRow("samvit_base_patch16", acc: [(78.26, 0.84), (82.13, 1.12), (84.19, 1.06), (84.30, 0.82)],
                 auc: [(89.36, 0.79), (90.79, 1.01), (91.94, 1.08), (91.91, 0.55)]),
    ]
    static let linearProbeAverage: [PaperRow] = [
        PaperRow("vgg16", acc: [(71.18, 0.13), (75.14, 0.26), (78.58, 0.15), (79.62, 0.18)],
                 auc: [(87.70, 0.06), (89.55, 0.06), (91.94, 0.04), (92.47, 0.05)]),
        PaperRow("alexnet", acc: [(69.63, 0.35), (76.11, 0.25), (79.08, 0.17), (81.02, 0.18)],
                 auc: [(85.91, 0.13), (89.06, 0.11), (91.78, 0.07), (93.18, 0.05)]),
        PaperRow("resnet18", acc: [(64.41, 0.05), (70.49, 0.08), (74.94, 0.07), (76.89, 0.08)],
                 auc: [(82.95, 0.18), (85.24, 0.22), (87.97, 0.76), (90.37, 0.17)]),
        PaperRow("densenet121", acc: [(72.10, 0.28), (78.01, 0.19), (80.77, 0.19), (82.22, 0.23)],
                 auc: [(86.76, 0.94), (90.11, 0.29), (92.00, 0.19), (93.02, 0.11)]),
        PaperRow("efficientnet_b4", acc: [(67.29, 0.54), (73.95, 0.51), (76.39, 0.25), (77.91, 0.62)],
                 auc: [(83.67, 0.64), (86.48, 0.45), (88.49, 0.55), (89.57, 0.22)]),
        PaperRow("vit_base_patch16_224", acc: [(73.21, 0.24), (79.62, 0.33), (83.08, 0.70), (84.01, 0.27)],
                 auc: [(88.25, 0.14), (91.33, 0.22), (93.57, 0.09), (94.31, 0.13)]),
        PaperRow("vit_base_patch16_clip_224", acc: [(74.17, 0.24), (78.67, 0.32), (81.54, 0.24), (82.24, 0.18)],
                 auc: [(88.66, 0.08), (91.48, 0.20), (93.28, 0.10), (93.66, 0.10)]),
        PaperRow("eva02_base_patch16_clip_224", acc: [(73.04, 0.19), (76.50, 0.16), (78.48, 0.11), (79.30, 0.10)],
                 auc: [(88.41, 0.04), (90.66, 0.03), (92.04, 0.04), (92.41, 0.04)]),
        PaperRow("vit_base_patch16_224.dino", acc: [(78.23, 0.22), (82.74, 0.36), (84.46, 0.24), (85.11, 0.55)],
                 auc: [(90.94, 0.14), (93.29, 0.12), (94.50, 0.11), (94.99, 0.14)]),
        PaperRow("samvit_base_patch16", acc: [(43.69, 0.01), (48.10, 0.03), (54.14, 0.04), (61.20, 0.03)],
                 auc: [(66.51, 1.38), (74.68, 0.80), (80.46, 0.13), (81.75, 0.11)]),
    ]
    static let knnAverage: [(model: String, acc: [Double])] = [
        ("vgg16", [66.07, 70.65, 72.26, 73.78]),
        ("alexnet", [67.47, 72.14, 74.56, 76.22]),
        ("resnet18", [66.98, 71.42, 74.20, 76.60]),
        ("densenet121", [67.12, 71.29, 74.97, 76.97]),
        ("efficientnet_b4", [68.15, 72.45, 73.91, 74.17]),
        ("vit_base_patch16_224", [65.92, 70.90, 75.45, 77.51]),
        ("vit_base_patch16_clip_224", [66.40, 71.61, 74.83, 75.52]),
        ("eva02_base_patch16_clip_224", [69.63, 72.64, 74.64, 75.52]),
        ("vit_base_patch16_224.dino", [73.61, 79.41, 81.17, 81.90]),
        ("samvit_base_patch16", [65.05, 70.40, 71.58, 71.95]),
    ]
    /// Per-dataset kNN ACC, by dataset, then model: 28, 64, 128, 224 px.
    static let knnPerDataset: [String: [String: [Double]]] = [
        "bloodmnist": [
            "vgg16": [71.76, 75.97, 79.22, 81.38],
            "alexnet": [68.34, 82.23, 87.55, 89.94],
            "resnet18": [75.04, 76.18, 80.27, 89.04],
            "densenet121": [72.29, 80.94, 84.10, 88.54],
            "efficientnet_b4": [73.63, 78.49, 81.00, 84.48],
            "vit_base_patch16_224": [70.21, 78.95, 92.17, 94.80],
            "vit_base_patch16_clip_224": [68.66, 82.87, 91.38, 93.19],
            "eva02_base_patch16_clip_224": [77.70, 84.07, 89.94, 92.43],
            "vit_base_patch16_224.dino": [85.24, 93.04, 96.67, 96.81],
            "samvit_base_patch16": [62.50, 64.40, 76.15, 78.22],
        ],
        "breastmnist": [
            "vgg16": [74.36, 80.77, 80.77, 79.49],
            "alexnet": [81.41, 81.41, 82.69, 82.69],
            "resnet18": [78.21, 81.41, 85.90, 80.77],
            "densenet121": [78.85, 75.64, 83.33, 84.62],
            "efficientnet_b4": [83.33, 81.41, 83.97, 86.54],
            "vit_base_patch16_224": [75.64, 79.49, 83.97, 81.41],
            "vit_base_patch16_clip_224": [78.21, 78.21, 80.13, 80.13],
            "eva02_base_patch16_clip_224": [75.64, 82.69, 82.69, 81.41],
            "vit_base_patch16_224.dino": [78.21, 86.54, 85.26, 87.18],
            "samvit_base_patch16": [74.36, 82.69, 77.56, 78.85],
        ],
        "chestmnist": [
            "vgg16": [94.67, 94.66, 94.66, 94.67],
            "alexnet": [94.66, 94.68, 94.67, 94.66],
            "resnet18": [94.66, 94.68, 94.66, 94.66],
            "densenet121": [94.66, 94.67, 94.66, 94.66],
            "efficientnet_b4": [94.65, 94.67, 94.68, 94.67],
            "vit_base_patch16_224": [94.66, 94.66, 94.69, 94.68],
            "vit_base_patch16_clip_224": [94.66, 94.66, 94.67, 94.67],
            "eva02_base_patch16_clip_224": [94.64, 94.67, 94.68, 94.66],
            "vit_base_patch16_224.dino": [94.63, 94.66, 94.67, 94.64],
            "samvit_base_patch16": [94.64, 94.69, 94.69, 94.68],
        ],
        "dermamnist": [
            "vgg16": [70.27, 72.27, 72.57, 71.67],
            "alexnet": [70.62, 73.92, 74.16, 74.66],
            "resnet18": [70.72, 71.52, 71.37, 73.07],
            "densenet121": [69.33, 70.62, 72.67, 73.17],
            "efficientnet_b4": [69.48, 71.62, 71.87, 71.72],
            "vit_base_patch16_224": [69.43, 70.87, 72.62, 75.21],
            "vit_base_patch16_clip_224": [72.12, 71.17, 73.52, 74.46],
            "eva02_base_patch16_clip_224": [73.22, 73.77, 74.11, 75.61],
            "vit_base_patch16_224.dino": [73.97, 75.91, 76.51, 78.35],
            "samvit_base_patch16": [69.73, 70.42, 70.22, 68.38],
        ],
        "octmnist": [
            "vgg16": [46.90, 46.50, 52.30, 61.30],
            "alexnet": [42.60, 49.90, 50.60, 54.60],
            "resnet18": [46.80, 46.40, 56.00, 68.90],
            "densenet121": [49.20, 50.30, 55.30, 63.20],
            "efficientnet_b4": [48.20, 54.20, 63.60, 65.80],
            "vit_base_patch16_224": [46.70, 48.70, 58.90, 65.70],
            "vit_base_patch16_clip_224": [47.30, 52.30, 61.40, 58.90],
            "eva02_base_patch16_clip_224": [46.00, 51.20, 55.50, 58.90],
            "vit_base_patch16_224.dino": [46.50, 61.10, 72.20, 74.10],
            "samvit_base_patch16": [39.30, 39.10, 40.50, 44.00],
        ],
        "organamnist": [
            "vgg16": [70.42, 80.40, 82.90, 84.55],
            "alexnet": [72.71, 82.87, 86.54, 88.38],
            "resnet18": [69.68, 81.25, 86.08, 86.69],
            "densenet121": [69.48, 81.93, 86.73, 87.28],
            "efficientnet_b4": [69.92, 81.16, 83.19, 82.15],
            "vit_base_patch16_224": [66.71, 80.67, 83.13, 83.86],
            "vit_base_patch16_clip_224": [66.65, 79.68, 81.29, 82.77],
            "eva02_base_patch16_clip_224": [73.33, 80.74, 82.71, 83.59],
            "vit_base_patch16_224.dino": [84.59, 90.75, 91.25, 90.69],
            "samvit_base_patch16": [70.08, 82.34, 83.67, 83.14],
        ],
        "organcmnist": [
            "vgg16": [67.70, 75.21, 77.31, 75.65],
            "alexnet": [72.47, 80.22, 81.86, 83.00],
            "resnet18": [66.20, 76.56, 80.00, 80.08],
            "densenet121": [62.97, 73.03, 78.44, 79.99],
            "efficientnet_b4": [63.83, 74.25, 72.69, 73.47],
            "vit_base_patch16_224": [64.74, 72.59, 76.06, 78.25],
            "vit_base_patch16_clip_224": [59.30, 70.87, 73.69, 74.66],
            "eva02_base_patch16_clip_224": [72.48, 75.23, 76.64, 77.57],
            "vit_base_patch16_224.dino": [83.63, 87.52, 87.13, 86.00],
            "samvit_base_patch16": [71.15, 82.05, 84.07, 83.80],
        ],
        "organsmnist": [
            "vgg16": [55.25, 63.80, 64.98, 65.80],
            "alexnet": [60.67, 66.50, 68.29, 68.97],
            "resnet18": [56.67, 65.83, 70.26, 70.08],
            "densenet121": [55.61, 64.96, 67.96, 69.56],
            "efficientnet_b4": [55.84, 66.22, 64.81, 63.92],
            "vit_base_patch16_224": [52.02, 66.04, 69.30, 69.81],
            "vit_base_patch16_clip_224": [50.91, 64.35, 66.65, 67.27],
            "eva02_base_patch16_clip_224": [60.61, 65.29, 65.62, 68.81],
            "vit_base_patch16_224.dino": [70.69, 76.64, 77.70, 74.82],
            "samvit_base_patch16": [56.72, 67.13, 70.62, 69.77],
        ],
        "pathmnist": [
            "vgg16": [70.32, 76.82, 78.84, 82.19],
            "alexnet": [71.52, 74.55, 81.23, 84.21],
            "resnet18": [68.89, 79.25, 81.85, 83.47],
            "densenet121": [72.90, 82.16, 86.16, 85.86],
            "efficientnet_b4": [73.84, 80.45, 81.25, 80.45],
            "vit_base_patch16_224": [71.96, 81.50, 86.57, 88.04],
            "vit_base_patch16_clip_224": [73.48, 83.02, 85.58, 86.49],
            "eva02_base_patch16_clip_224": [76.17, 83.58, 86.49, 79.94],
            "vit_base_patch16_224.dino": [80.54, 90.39, 93.72, 94.32],
            "samvit_base_patch16": [63.91, 76.99, 78.02, 77.28],
        ],
        "pneumoniamnist": [
            "vgg16": [76.12, 83.01, 81.73, 81.57],
            "alexnet": [81.89, 81.25, 83.65, 84.62],
            "resnet18": [81.09, 86.06, 83.97, 87.34],
            "densenet121": [82.05, 82.37, 84.29, 86.06],
            "efficientnet_b4": [85.58, 83.81, 84.78, 84.62],
            "vit_base_patch16_224": [83.01, 77.88, 84.94, 87.82],
            "vit_base_patch16_clip_224": [85.26, 83.01, 86.38, 87.50],
            "eva02_base_patch16_clip_224": [84.29, 79.81, 83.97, 84.94],
            "vit_base_patch16_224.dino": [85.74, 87.82, 90.54, 89.74],
            "samvit_base_patch16": [80.93, 83.33, 84.13, 86.06],
        ],
        "retinamnist": [
            "vgg16": [47.75, 51.25, 53.25, 55.75],
            "alexnet": [46.75, 48.25, 52.75, 54.75],
            "resnet18": [47.50, 49.00, 51.00, 53.50],
            "densenet121": [49.50, 48.75, 55.00, 58.00],
            "efficientnet_b4": [49.75, 52.00, 54.75, 51.00],
            "vit_base_patch16_224": [48.50, 48.75, 50.25, 56.25],
            "vit_base_patch16_clip_224": [52.25, 48.75, 50.00, 52.75],
            "eva02_base_patch16_clip_224": [51.75, 49.75, 50.75, 54.50],
            "vit_base_patch16_224.dino": [48.00, 52.50, 51.00, 59.00],
            "samvit_base_patch16": [49.25, 52.00, 49.75, 52.25],
        ],
        "tissuemnist": [
            "vgg16": [47.30, 47.20, 48.55, 51.30],
            "alexnet": [45.97, 49.96, 50.79, 54.11],
            "resnet18": [48.25, 48.89, 49.05, 51.54],
            "densenet121": [48.66, 50.10, 51.04, 52.67],
            "efficientnet_b4": [49.79, 51.14, 50.35, 51.26],
            "vit_base_patch16_224": [47.47, 50.73, 52.84, 54.33],
            "vit_base_patch16_clip_224": [48.04, 50.48, 53.29, 53.46],
            "eva02_base_patch16_clip_224": [49.74, 50.92, 52.52, 53.86],
            "vit_base_patch16_224.dino": [51.56, 56.10, 57.39, 57.12],
            "samvit_base_patch16": [48.00, 49.67, 49.64, 46.97],
        ],
    ]
    /// Per-dataset VGG16 end-to-end, by dataset: ACC and AUC (mean, std) at 28, 64, 128, 224 px.
    static let vgg16EndToEndPerDataset: [String: PaperRow] = [
        "bloodmnist": PaperRow("vgg16", acc: [(94.85, 0.47), (98.20, 0.16), (98.52, 0.25), (98.77, 0.31)],
                              auc: [(99.66, 0.06), (99.91, 0.00), (99.93, 0.01), (99.95, 0.01)]),
        "breastmnist": PaperRow("vgg16", acc: [(85.26, 1.05), (87.82, 2.09), (89.32, 0.80), (88.03, 0.80)],
                              auc: [(87.48, 0.96), (90.21, 0.48), (92.40, 0.68), (91.11, 0.44)]),
        "chestmnist": PaperRow("vgg16", acc: [(94.79, 0.02), (94.82, 0.01), (94.79, 0.06), (94.83, 0.01)],
                              auc: [(76.16, 0.31), (78.59, 0.11), (80.07, 0.26), (80.92, 0.11)]),
        "dermamnist": PaperRow("vgg16", acc: [(76.58, 0.26), (79.53, 1.19), (81.80, 1.29), (81.55, 1.89)],
                              auc: [(92.69, 0.59), (94.36, 0.40), (95.71, 0.46), (95.51, 0.69)]),
        "octmnist": PaperRow("vgg16", acc: [(77.50, 2.86), (81.93, 2.44), (90.50, 0.85), (90.30, 2.62)],
                              auc: [(95.84, 1.00), (97.50, 0.79), (98.73, 0.26), (99.17, 0.13)]),
        "organamnist": PaperRow("vgg16", acc: [(93.19, 0.49), (96.44, 0.35), (94.24, 1.94), (94.61, 0.64)],
                              auc: [(99.47, 0.05), (99.79, 0.04), (99.75, 0.12), (99.75, 0.05)]),
        "organcmnist": PaperRow("vgg16", acc: [(91.35, 0.41), (93.51, 0.72), (92.54, 0.88), (93.37, 0.34)],
                              auc: [(99.32, 0.08), (99.64, 0.05), (99.61, 0.03), (99.65, 0.02)]),
        "organsmnist": PaperRow("vgg16", acc: [(78.87, 0.68), (81.60, 0.21), (82.36, 0.08), (82.06, 0.48)],
                              auc: [(97.64, 0.09), (98.06, 0.24), (98.11, 0.06), (97.89, 0.18)]),
        "pathmnist": PaperRow("vgg16", acc: [(88.93, 0.53), (93.83, 1.12), (94.85, 0.61), (94.73, 0.31)],
                              auc: [(98.57, 0.14), (99.34, 0.12), (99.42, 0.18), (99.33, 0.06)]),
        "pneumoniamnist": PaperRow("vgg16", acc: [(84.78, 2.55), (89.26, 0.39), (87.13, 1.93), (87.39, 1.00)],
                              auc: [(97.04, 0.54), (98.69, 0.16), (98.55, 0.44), (98.47, 0.16)]),
        "retinamnist": PaperRow("vgg16", acc: [(54.17, 0.77), (55.75, 4.48), (62.00, 1.02), (64.17, 2.42)],
                              auc: [(75.35, 0.98), (80.63, 0.68), (85.26, 0.60), (87.82, 0.71)]),
        "tissuemnist": PaperRow("vgg16", acc: [(67.75, 0.46), (71.29, 0.81), (71.62, 0.16), (70.57, 0.35)],
                              auc: [(92.67, 0.12), (94.12, 0.23), (94.37, 0.10), (94.05, 0.06)]),
    ]
}

extension PaperResults.Number {
    init(acc: Double) { self.init(acc: acc, accStd: nil, auc: nil, aucStd: nil) }
}
