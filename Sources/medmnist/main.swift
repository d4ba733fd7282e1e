import MedMNISTCommands

// The `medmnist` command-line tool: everything lives in the MedMNISTCommands library (tested in-process).
await MedMNISTTool.main()
