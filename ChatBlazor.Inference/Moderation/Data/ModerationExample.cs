namespace ChatBlazor.Inference.Moderation.Data;

/// <summary>Which part of the data an example belongs to: fitting, choosing thresholds, or the held-out evaluation.</summary>
public enum ModerationSplit { Train, Validation, HeldOut }

/// <summary>
/// One labelled text. <see cref="Labels"/> holds every category it belongs to (a sub-category with its parent); empty
/// means benign. <see cref="LookAlike"/> marks benign texts that borrow harmful words ("kill a python process").
/// </summary>
public sealed record ModerationExample(string Text, IReadOnlyList<string> Labels, ModerationSplit Split, string Source, bool LookAlike = false);
