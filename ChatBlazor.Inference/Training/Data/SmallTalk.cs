namespace ChatBlazor.Inference.Training.Data;

/// <summary>Greetings and small talk: each intent has train phrasings, disjoint eval phrasings and 1-2 sentence replies.</summary>
internal static class SmallTalk
{
    private sealed record Intent(string Title, string[] Train, string[] Eval, string[] Replies);

    private static readonly Intent[] _intents =
    [
        new("Greeting", ["hi", "hello", "hey", "hi there", "Hello!", "hey there", "hiya", "good morning", "good evening", "yo"],
            ["Greetings!", "Howdy, assistant.", "Good afternoon to you."],
            ["Hello! How can I help you today?", "Hi there! What can I do for you?", "Hey! What would you like to talk about?"]),
        new("How are you", ["how are you?", "how are you doing", "how's it going?", "how r u", "you ok?", "how are things"],
            ["Are you having a good day?", "How have you been lately?", "Everything alright on your end?"],
            ["I'm doing well, thanks for asking! How can I help you?", "All good here. What can I do for you today?"]),
        new("About the assistant", ["who are you?", "what are you", "what's your name?", "tell me about yourself", "are you a bot?"],
            ["Introduce yourself.", "What should I call you?", "Which assistant am I talking to?"],
            ["I'm the ChatBlazor assistant, a small language model. I can do arithmetic, define words and help you use ChatBlazor.",
             "I'm ChatBlazor's assistant, a small AI model. Ask me a sum, a word's meaning or how to use the app."]),
        new("What the assistant can do", ["what can you do?", "what can you help with", "help", "what are you good at?", "what do you know?"],
            ["Give me an idea of your abilities.", "Which tasks can you handle?", "List the things you can assist with."],
            ["I can do arithmetic, define English words and answer questions about using ChatBlazor. What would you like to try?",
             "I can add, subtract and multiply, explain what words mean, and help with ChatBlazor. Just ask!"]),
        new("Thanks", ["thanks", "thank you!", "thx", "thanks a lot", "ty", "cheers"],
            ["I appreciate your help.", "That was really helpful, much obliged.", "Many thanks for that."],
            ["You're welcome! Anything else I can help with?", "Glad I could help!", "Happy to help. Let me know if you need anything else."]),
        new("Goodbye", ["bye", "goodbye", "see you later", "good night", "cya", "that's all for now"],
            ["I'm heading off now.", "Talk to you another time.", "Farewell for today."],
            ["Goodbye! Have a great day.", "See you later! Come back any time.", "Bye! Take care."]),
        new("A joke", ["tell me a joke", "say something funny", "know any jokes?", "make me laugh"],
            ["Cheer me up with something humorous.", "Got anything amusing?", "Share a pun with me."],
            ["Why did the programmer quit his job? Because he didn't get arrays.", "I told my computer a joke about UDP, but I'm not sure it got it."]),
        new("Something to do", ["I'm bored", "i am so bored", "im bored, any ideas?", "nothing to do"],
            ["Suggest a way to pass the time.", "I have a free afternoon and no plans."],
            ["How about learning a new word? Ask me what one means.", "Maybe try a quick mental math game: give me two numbers and I'll add them."]),
        // What a model this small cannot do: say so, and point to the model picker, rather than make something up.
        new("Question for a larger model", ["write me a poem", "what's the capital of France?", "who won the world cup", "write a python function to sort a list",
             "translate hello into German", "what's the weather today?", "summarize this article", "who painted the mona lisa?",
             "tell me about the roman empire", "what year is it?", "recommend a good book", "write an essay about climate change",
             "how do I cook rice?", "give me a recipe for pancakes", "who is the president?"],
            ["Compose a short story about a dragon.", "Which planet is the largest in our solar system?", "Draft an email to my landlord."],
            ["I'm a small model, so I can only do arithmetic, define English words and help with ChatBlazor. For anything else, pick a larger model in the model picker.",
             "That's beyond what I can do: I'm a small model for sums, word meanings and ChatBlazor help. A larger model from the model picker can help with that."]),
    ];

    /// <summary>The replies of the intent with this title, for the judge: a greeting must be answered as a greeting.</summary>
    public static IReadOnlyList<string> RepliesOf(string title) => _intents.FirstOrDefault(i => i.Title == title)?.Replies ?? [];

    public static IEnumerable<ChatExample> Generate(int count, Random rng, bool eval)
    {
        for (var i = 0; i < count; i++)
        {
            var intent = rng.Pick(_intents);
            var user = rng.Pick(eval ? intent.Eval : intent.Train);
            if (!eval)
                user = Phrasing.Vary(user, rng);
            yield return new ChatExample(DataCategory.SmallTalk, user, rng.Pick(intent.Replies), intent.Title);
        }
    }
}
