import Foundation

/// A D-Bus session of a test's own, for keyring scenarios that must not touch the shared test keyring.
public enum PrivateBus {
    /// Writes (to `path`) a session bus configuration with no service directories, so nothing can be activated on
    /// it: a killed or absent Secret Service stays gone, as on a server that runs D-Bus but no keyring.
    public static func writeConfig(to path: String) throws {
        try """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>
            <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Shell lines that start a throw-away, unlocked gnome-keyring on the bus the script runs on (design.md §6's
    /// incantation, as scripts/with-keyring uses it). Its data directory is `$XDG_DATA_HOME`; remove it at the end.
    public static let startKeyring = """
        export XDG_DATA_HOME="$(mktemp -d)"
        eval "$(printf %s pw | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
        export GNOME_KEYRING_CONTROL
        gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1

        """
}
