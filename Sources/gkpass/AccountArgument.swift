import ArgumentParser

/// The optional ACCOUNT of the commands that act on one account (design.md §3), declared once so its spelling and
/// help cannot drift between them. `proxy` (whose account is only a fallback) and `switch` (where it is required)
/// word theirs differently and declare their own.
struct AccountArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The Passport member name (default: the default account).", valueName: "account"))
    var name: String?
}
