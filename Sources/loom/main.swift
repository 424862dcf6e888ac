// Entry point of `loom`: forward model verbs to `loom-torch` before parsing, else run the CLI.
let arguments = Array(CommandLine.arguments.dropFirst())
if let verb = arguments.first, ModelVerbs.isModelVerb(verb) {
    ModelVerbs.exec(arguments)
}
Loom.main()
