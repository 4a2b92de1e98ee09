namespace ChatBlazor.Inference.Training.Data;

/// <summary>Greetings and small talk: each intent has train phrasings, disjoint eval phrasings and 1-2 sentence replies.</summary>
internal static class SmallTalk
{
    private sealed record Intent(string Title, string[] Train, string[] Eval, string[] Replies);

    private static readonly Intent[] _intents =
    [
        new("Greeting", ["hi", "hello", "hey", "hi there", "Hello!", "hey there", "hiya", "good morning", "good evening", "yo",
             "hello there", "hi assistant", "hello bot", "hey chatblazor", "good day", "morning!", "evening!", "hi, nice to meet you",
             "hello, anyone there?", "heya", "hi friend", "hello again", "hey you", "sup", "hi, it's me again", "salutations"],
            ["Greetings!", "Howdy, assistant.", "Good afternoon to you."],
            ["Hello! How can I help you today?", "Hi there! What can I do for you?", "Hey! What would you like to talk about?"]),
        new("How are you", ["how are you?", "how are you doing", "how's it going?", "how r u", "you ok?", "how are things",
             "how are you today?", "how do you feel?", "are you well?", "what's up?", "how's your day going?", "how's life?",
             "are you doing ok?", "everything good with you?", "how have you been?", "hope you're well. how are you?", "how's everything?",
             "is your day going well?", "you doing alright?", "how are you feeling today"],
            ["Are you having a good day?", "How have you been lately?", "Everything alright on your end?"],
            ["I'm doing well, thanks for asking! How can I help you?", "All good here. What can I do for you today?"]),
        new("About the assistant", ["who are you?", "what are you", "what's your name?", "tell me about yourself", "are you a bot?",
             "do you have a name?", "who am I chatting with?", "are you human?", "what kind of AI are you?", "are you ChatGPT?",
             "who made you?", "say who you are", "what model are you?", "describe yourself", "what do I call you?", "are you a person?",
             "who is this?", "what should I know about you?", "tell me who you are"],
            ["Introduce yourself.", "What should I call you?", "Which assistant am I talking to?"],
            ["I'm the ChatBlazor assistant, a small language model. I can do arithmetic, define English words and help you use ChatBlazor.",
             "I'm ChatBlazor's assistant, a small AI model. Ask me a sum, a word's meaning or how to use the app."]),
        new("What the assistant can do", ["what can you do?", "what can you help with", "help", "what are you good at?", "what do you know?",
             "what are your skills?", "what can I ask you?", "how can you help me?", "what are you able to do?", "what are your capabilities?",
             "what kind of questions can you answer?", "show me what you can do", "what do you do?", "what are you for?",
             "what topics do you know about?", "how are you useful?", "what jobs can you do?", "tell me your features"],
            ["Give me an idea of your abilities.", "Which tasks can you handle?", "List the things you can assist with."],
            ["I can do arithmetic, define English words and answer questions about using ChatBlazor. What would you like to try?",
             "I can add, subtract and multiply, explain what words mean, and help with ChatBlazor. Just ask!"]),
        new("Thanks", ["thanks", "thank you!", "thx", "thanks a lot", "ty", "cheers",
             "thank you so much", "thanks, that helped", "great, thanks", "perfect, thank you", "awesome thanks", "thanks for the help",
             "that's great, thanks", "much appreciated", "you're the best, thanks", "thank you kindly", "nice, thanks!", "that helps a lot",
             "brilliant, thank you", "super helpful, thanks"],
            ["I appreciate your help.", "That was really helpful, much obliged.", "Many thanks for that."],
            ["You're welcome! Anything else I can help with?", "Glad I could help!", "Happy to help. Let me know if you need anything else."]),
        new("Goodbye", ["bye", "goodbye", "see you later", "good night", "cya", "that's all for now",
             "bye bye", "see ya", "later!", "catch you later", "I'm off", "gotta go", "I have to go now", "see you tomorrow",
             "ok bye", "that's it for today, bye", "night night", "I'm leaving now, bye", "until next time", "signing off"],
            ["I'm heading off now.", "Talk to you another time.", "Farewell for today."],
            ["Goodbye! Have a great day.", "See you later! Come back any time.", "Bye! Take care."]),
        new("A joke", ["tell me a joke", "say something funny", "know any jokes?", "make me laugh",
             "joke please", "tell me something funny", "do you know a good joke?", "I need a laugh", "got a joke for me?",
             "tell a programming joke", "be funny", "can you tell jokes?", "give me a joke", "make a joke", "any funny stories?"],
            ["Cheer me up with something humorous.", "Got anything amusing?", "Share a pun with me."],
            ["Why did the programmer quit his job? Because he didn't get arrays.", "I told my computer a joke about UDP, but I'm not sure it got it."]),
        new("Something to do", ["I'm bored", "i am so bored", "im bored, any ideas?", "nothing to do",
             "what should I do?", "I don't know what to do", "give me something to do", "entertain me", "so bored right now",
             "any ideas for killing time?", "I have nothing going on", "what can we do for fun?", "I need an activity", "help, I'm bored"],
            ["Suggest a way to pass the time.", "I have a free afternoon and no plans."],
            ["How about learning a new word? Ask me what one means.", "Maybe try a quick mental math game: give me two numbers and I'll add them."]),
        // What a model this small cannot do: say so, and point to the model picker, rather than make something up.
        new("Question for a larger model", ["write me a poem", "what's the capital of France?", "who won the world cup", "write a python function to sort a list",
             "translate hello into German", "what's the weather today?", "summarize this article", "who painted the mona lisa?",
             "tell me about the roman empire", "what year is it?", "recommend a good book", "write an essay about climate change",
             "how do I cook rice?", "give me a recipe for pancakes", "who is the president?",
             "write a story about a cat", "write an email to my boss", "write a cover letter for me", "make up a song about rain",
             "write a haiku about autumn", "how far away is the moon?", "what is the biggest ocean?", "how tall is Mount Everest?",
             "who wrote Hamlet?", "when did World War II end?", "explain quantum physics", "what's the population of Japan?",
             "write javascript code for a button", "fix my SQL query", "plan a trip to Italy for me", "what stocks should I buy?",
             "create a workout plan", "write a birthday message for my mom", "what's the best phone to buy?", "how does the internet work?",
             "translate this sentence to Spanish", "who invented the light bulb?", "what's the speed of light?", "help me with my history homework",
             "write a limerick", "what is the tallest building in the world?", "give me a business plan", "tell me a bedtime story"],
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
