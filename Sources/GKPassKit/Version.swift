/// The one place the gkpass version lives.
public enum GKPassVersion {
    public static let string = "0.1.0"
}
