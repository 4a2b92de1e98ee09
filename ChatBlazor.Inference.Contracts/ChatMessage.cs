namespace ChatBlazor.Inference.Contracts;

/// <summary>One turn of a conversation, as a chat template sees it: <c>message['role']</c> and <c>message['content']</c>.</summary>
public sealed record ChatMessage(string Role, string Content);
