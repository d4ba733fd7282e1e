// The 18 MedMNIST+ sets, copied from medmnist 3.0.2's `INFO` (medmnist/info.py) as documented in
// MEDMNIST.md §2.2–2.4. Tests compare every field with a JSON dump of the package's INFO.

extension MedMNISTCatalog {
    /// Every set, in the order of the package's `INFO` (12 2D sets, then 6 3D sets).
    public static let all: [DatasetInfo] = [
        DatasetInfo(
            flag: "pathmnist", pythonClass: "PathMNIST", dimensions: .two,
            description: "Colon pathology (H&E histology patches, NCT-CRC-HE-100K / CRC-VAL-HE-7K); source 3×224×224.",
            task: .multiClass, channels: 3,
            labels: ["adipose", "background", "debris", "lymphocytes", "mucus", "smooth muscle", "normal colon mucosa", "cancer-associated stroma", "colorectal adenocarcinoma epithelium"],
            splitSizes: SplitSizes(train: 89996, val: 10004, test: 7180), license: "CC BY 4.0",
            md5BySize: [28: "a8b06965200029087d5bd730944a56c1", 64: "55aa9c1e0525abe5a6b9d8343a507616", 128: "ac42d08fb904d92c244187169d1fd1d9", 224: "2c51a510bcdc9cf8ddb2af93af1eadec"]
        ),
        DatasetInfo(
            flag: "chestmnist", pythonClass: "ChestMNIST", dimensions: .two,
            description: "Chest X-ray (NIH ChestX-ray14), 14 text-mined disease labels; source 1×1024×1024.",
            task: .multiLabelBinary, channels: 1,
            labels: ["atelectasis", "cardiomegaly", "effusion", "infiltration", "mass", "nodule", "pneumonia", "pneumothorax", "consolidation", "edema", "emphysema", "fibrosis", "pleural", "hernia"],
            splitSizes: SplitSizes(train: 78468, val: 11219, test: 22433), license: "CC BY 4.0",
            md5BySize: [28: "02c8a6516a18b556561a56cbdd36c4a8", 64: "9de6cd0b934ebb5b7426cfba5efbae16", 128: "db107e5590b27930b62dbaf558aebee3", 224: "45bd33e6f06c3e8cdb481c74a89152aa"]
        ),
        DatasetInfo(
            flag: "dermamnist", pythonClass: "DermaMNIST", dimensions: .two,
            description: "Dermatoscope images of pigmented skin lesions (HAM10000); source 3×600×450.",
            task: .multiClass, channels: 3,
            labels: ["actinic keratoses and intraepithelial carcinoma", "basal cell carcinoma", "benign keratosis-like lesions", "dermatofibroma", "melanoma", "melanocytic nevi", "vascular lesions"],
            splitSizes: SplitSizes(train: 7007, val: 1003, test: 2005), license: "CC BY-NC 4.0",
            md5BySize: [28: "0744692d530f8e62ec473284d019b0c7", 64: "b70a2f5635c6199aeaa28c31d7202e1f", 128: "2defd784463fa5243564e855ed717de1", 224: "8974907d8e169bef5f5b96bc506ae45d"]
        ),
        DatasetInfo(
            flag: "octmnist", pythonClass: "OCTMNIST", dimensions: .two,
            description: "Retinal optical coherence tomography; source (384–1536)×(277–512), centre-cropped.",
            task: .multiClass, channels: 1,
            labels: ["choroidal neovascularization", "diabetic macular edema", "drusen", "normal"],
            splitSizes: SplitSizes(train: 97477, val: 10832, test: 1000), license: "CC BY 4.0",
            md5BySize: [28: "c68d92d5b585d8d81f7112f81e2d0842", 64: "e229e9440236b774d9f0dfef9d07bdaf", 128: "0a97e76651ace45c5d943ee3f65b63ae", 224: "abc493b6d529d5de7569faaef2773ba3"]
        ),
        DatasetInfo(
            flag: "pneumoniamnist", pythonClass: "PneumoniaMNIST", dimensions: .two,
            description: "Paediatric chest X-ray, pneumonia against normal; source (384–2916)×(127–2713), centre-cropped.",
            task: .binaryClass, channels: 1,
            labels: ["normal", "pneumonia"],
            splitSizes: SplitSizes(train: 4708, val: 524, test: 624), license: "CC BY 4.0",
            md5BySize: [28: "28209eda62fecd6e6a2d98b1501bb15f", 64: "8f4eceb4ccffa70c672198ea285246c6", 128: "05b46931834c231683c68f40c47b2971", 224: "d6a3c71de1b945ea11211b03746c1fe1"]
        ),
        DatasetInfo(
            flag: "retinamnist", pythonClass: "RetinaMNIST", dimensions: .two,
            description: "Fundus camera (DeepDRiD), 5-level diabetic retinopathy grade; source 3×1736×1824, centre-cropped.",
            task: .ordinalRegression, channels: 3,
            labels: ["0", "1", "2", "3", "4"],
            splitSizes: SplitSizes(train: 1080, val: 120, test: 400), license: "CC BY 4.0",
            md5BySize: [28: "bd4c0672f1bba3e3a89f0e4e876791e4", 64: "afda852cc34dcda56f86ad2b2457dbcc", 128: "e48e916a24454daf90583d4e6efb1a18", 224: "eae7e3b6f3fcbda4ae613ebdcbe35348"]
        ),
        DatasetInfo(
            flag: "breastmnist", pythonClass: "BreastMNIST", dimensions: .two,
            description: "Breast ultrasound, malignant against normal+benign; source 1×500×500.",
            task: .binaryClass, channels: 1,
            labels: ["malignant", "normal, benign"],
            splitSizes: SplitSizes(train: 546, val: 78, test: 156), license: "CC BY 4.0",
            md5BySize: [28: "750601b1f35ba3300ea97c75c52ff8f6", 64: "742edef2a1fd1524b2efff4bd7ba9364", 128: "363e4b3f8d712e9b5de15470a2aaadf1", 224: "b56378a6eefa9fed602bb16d192d4c8b"]
        ),
        DatasetInfo(
            flag: "bloodmnist", pythonClass: "BloodMNIST", dimensions: .two,
            description: "Blood cell microscope images of normal cells; source 3×360×363, centre crop 200×200.",
            task: .multiClass, channels: 3,
            labels: ["basophil", "eosinophil", "erythroblast", "immature granulocytes(myelocytes, metamyelocytes and promyelocytes)", "lymphocyte", "monocyte", "neutrophil", "platelet"],
            splitSizes: SplitSizes(train: 11959, val: 1712, test: 3421), license: "CC BY 4.0",
            md5BySize: [28: "7053d0359d879ad8a5505303e11de1dc", 64: "2b94928a2ae4916078ca51e05b6b800b", 128: "adace1e0ed228fccda1f39692059dd4c", 224: "b718ff6835fcbdb22ba9eacccd7b2601"]
        ),
        DatasetInfo(
            flag: "tissuemnist", pythonClass: "TissueMNIST", dimensions: .two,
            description: "Kidney cortex microscope cells (BBBC051); source 32×32×7, max projection.",
            task: .multiClass, channels: 1,
            labels: ["Collecting Duct, Connecting Tubule", "Distal Convoluted Tubule", "Glomerular endothelial cells", "Interstitial endothelial cells", "Leukocytes", "Podocytes", "Proximal Tubule Segments", "Thick Ascending Limb"],
            splitSizes: SplitSizes(train: 165466, val: 23640, test: 47280), license: "CC BY 4.0",
            md5BySize: [28: "ebe78ee8b05294063de985d821c1c34b", 64: "123ece2eba09d0aa5d698fda57103344", 128: "61b955355d7425a89687b06cca3ce0c2", 224: "b077128c4a949f0a4eb01517f9037b9c"]
        ),
        DatasetInfo(
            flag: "organamnist", pythonClass: "OrganAMNIST", dimensions: .two,
            description: "Abdominal CT (LiTS), axial view of 11 organs.",
            task: .multiClass, channels: 1,
            labels: ["bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right", "liver", "lung-left", "lung-right", "pancreas", "spleen"],
            splitSizes: SplitSizes(train: 34561, val: 6491, test: 17778), license: "CC BY 4.0",
            md5BySize: [28: "68e3f8846a6bd62f0c9bf841c0d9eacc", 64: "2dcccc29b88e6da5a01161ef20cda288", 128: "eeae80d0a227a8d099027e1b3cfd3b60", 224: "50747347e05c87dd3aaf92c49f9f3170"]
        ),
        DatasetInfo(
            flag: "organcmnist", pythonClass: "OrganCMNIST", dimensions: .two,
            description: "Abdominal CT (LiTS), coronal view of 11 organs.",
            task: .multiClass, channels: 1,
            labels: ["bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right", "liver", "lung-left", "lung-right", "pancreas", "spleen"],
            splitSizes: SplitSizes(train: 12975, val: 2392, test: 8216), license: "CC BY 4.0",
            md5BySize: [28: "b9ceb9546e10131b32923c5bbeaea2b1", 64: "3ce34a8724ea6f548e6db4744d03b6a9", 128: "773c1f009daa3fe5d9a2a201b2a7ed94", 224: "050f5e875dc056f6768abf94ec9995d1"]
        ),
        DatasetInfo(
            flag: "organsmnist", pythonClass: "OrganSMNIST", dimensions: .two,
            description: "Abdominal CT (LiTS), sagittal view of 11 organs.",
            task: .multiClass, channels: 1,
            labels: ["bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right", "liver", "lung-left", "lung-right", "pancreas", "spleen"],
            splitSizes: SplitSizes(train: 13932, val: 2452, test: 8827), license: "CC BY 4.0",
            md5BySize: [28: "9ab87b696fb54e2a387ebe992d6ed5f1", 64: "53a6d115339d874c25e309a994ff46d3", 128: "ded0c5fa01a95dc4978b956f613e9b8e", 224: "b354719e553fbbb2513d5533f52a4cb1"]
        ),
        DatasetInfo(
            flag: "organmnist3d", pythonClass: "OrganMNIST3D", dimensions: .three,
            description: "Abdominal CT (LiTS) volumes of 11 organs.",
            task: .multiClass, channels: 1,
            labels: ["liver", "kidney-right", "kidney-left", "femur-right", "femur-left", "bladder", "heart", "lung-right", "lung-left", "spleen", "pancreas"],
            splitSizes: SplitSizes(train: 971, val: 161, test: 610), license: "CC BY 4.0",
            md5BySize: [28: "a0c5a1ff56af4f155c46d46fbb45a2fe", 64: "58a2205adf14a9d0a189cb06dc78bf10"]
        ),
        DatasetInfo(
            flag: "nodulemnist3d", pythonClass: "NoduleMNIST3D", dimensions: .three,
            description: "Chest CT lung nodules (LIDC-IDRI), benign against malignant.",
            task: .binaryClass, channels: 1,
            labels: ["benign", "malignant"],
            splitSizes: SplitSizes(train: 1158, val: 165, test: 310), license: "CC BY 4.0",
            md5BySize: [28: "8755a7e9e05a4d9ce80a24c3e7a256f3", 64: "c47c5b7d457bf6332200d2ea6d64ecd8"]
        ),
        DatasetInfo(
            flag: "adrenalmnist3d", pythonClass: "AdrenalMNIST3D", dimensions: .three,
            description: "Adrenal gland shape masks from abdominal CT, normal against hyperplasia.",
            task: .binaryClass, channels: 1,
            labels: ["normal", "hyperplasia"],
            splitSizes: SplitSizes(train: 1188, val: 98, test: 298), license: "CC BY 4.0",
            md5BySize: [28: "bbd3c5a5576322bc4cdfea780653b1ce", 64: "17721accfe9fb005146a47d33bc54b2f"]
        ),
        DatasetInfo(
            flag: "fracturemnist3d", pythonClass: "FractureMNIST3D", dimensions: .three,
            description: "Chest CT rib fractures (RibFrac), 3 fracture types.",
            task: .multiClass, channels: 1,
            labels: ["buckle rib fracture", "nondisplaced rib fracture", "displaced rib fracture"],
            splitSizes: SplitSizes(train: 1027, val: 103, test: 240), license: "CC BY 4.0",
            md5BySize: [28: "6aa7b0143a6b42da40027a9dda61302f", 64: "f01d7e6316aedf4210da0da5b7437b42"]
        ),
        DatasetInfo(
            flag: "vesselmnist3d", pythonClass: "VesselMNIST3D", dimensions: .three,
            description: "Brain vessel segments from MRA (IntrA), vessel against aneurysm.",
            task: .binaryClass, channels: 1,
            labels: ["vessel", "aneurysm"],
            splitSizes: SplitSizes(train: 1335, val: 191, test: 382), license: "CC BY 4.0",
            md5BySize: [28: "b41fd4f7e7e2feedddb201585ecafa1b", 64: "6bb274a8846e1097066dcd64e2c4520f"]
        ),
        DatasetInfo(
            flag: "synapsemnist3d", pythonClass: "SynapseMNIST3D", dimensions: .three,
            description: "Electron microscope volumes of rat brain synapses, inhibitory against excitatory.",
            task: .binaryClass, channels: 1,
            labels: ["inhibitory synapse", "excitatory synapse"],
            splitSizes: SplitSizes(train: 1230, val: 177, test: 352), license: "CC BY 4.0",
            md5BySize: [28: "1235b78a3cd6280881dd7850a78eadb6", 64: "43bd14ebf3af9d3dd072446fedc14d5e"]
        ),
    ]
}
