import ArgumentParser

@main
struct MLGWDeploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlgw-deploy",
        abstract: "Plan and apply declarative stacks for the ML gateway pattern on a local provider.",
        discussion: """
        A stack is a YAML file (or a folder of them) declaring models and endpoints with weighted
        variants. 'plan' shows the exact changes, 'apply' makes them real as processes on this
        machine, 'destroy' removes everything. See docs/spec.md for the stack format.
        """,
        version: "0.1.0",
        subcommands: [Validate.self, Plan.self, Apply.self, Destroy.self, Output.self, Status.self, Logs.self,
                      Graph.self, StateCommand.self, Env.self, Report.self, Schema.self, Serve.self]
    )
}
