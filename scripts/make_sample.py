"""Write data/sample_pairs.csv: the small hand-written pair set behind `textsiam train --data sample`.

Each group below holds questions written to mean the same thing. Pairs inside a group are duplicates
(label 1); pairs across groups are not (label 0), and groups on the same topic (learning Python vs
learning Java) give hard negatives. Deterministic: re-running writes the same file.
"""

from __future__ import annotations

import csv
import random
from itertools import combinations
from pathlib import Path

GROUPS = [
    ["How do I learn Python quickly?", "What is the fastest way to learn Python?", "How can I learn Python fast?"],
    ["How do I learn Java quickly?", "What is the fastest way to learn Java?", "How can I pick up Java fast?"],
    ["What is the best way to lose weight?", "How can I lose weight effectively?", "What should I do to lose weight?"],
    [
        "How do I gain weight in a healthy way?",
        "What is a healthy way to put on weight?",
        "How can I gain weight without junk food?",
    ],
    [
        "How can I improve my English speaking?",
        "What are ways to speak English better?",
        "How do I get better at spoken English?",
    ],
    [
        "How can I improve my English writing?",
        "How do I write better in English?",
        "What helps to improve written English?",
    ],
    [
        "What is the capital of Australia?",
        "Which city is the capital of Australia?",
        "What's Australia's capital city?",
    ],
    ["What is the capital of Canada?", "Which city is the capital of Canada?", "What is Canada's capital?"],
    [
        "How do I reset my Gmail password?",
        "How can I change a forgotten Gmail password?",
        "What do I do if I forgot my Gmail password?",
    ],
    [
        "How do I delete my Facebook account?",
        "How can I permanently remove my Facebook account?",
        "What are the steps to delete a Facebook profile?",
    ],
    ["Why is the sky blue?", "What makes the sky look blue?", "Why does the sky appear blue during the day?"],
    ["Why is the ocean salty?", "What makes sea water salty?", "Why does the sea contain salt?"],
    [
        "How do I start investing in the stock market?",
        "What is the best way for a beginner to invest in stocks?",
        "How can I begin investing in shares?",
    ],
    [
        "How do I save money every month?",
        "What are good ways to save money each month?",
        "How can I put aside more money monthly?",
    ],
    [
        "What are the benefits of drinking green tea?",
        "Is green tea good for your health?",
        "Why is green tea considered healthy?",
    ],
    [
        "What are the benefits of drinking coffee?",
        "Is coffee good for your health?",
        "Why do people say coffee is healthy?",
    ],
    ["How can I sleep better at night?", "What helps you fall asleep faster?", "How do I improve my sleep quality?"],
    [
        "How do I stop procrastinating?",
        "What can I do to stop putting things off?",
        "How can I overcome procrastination?",
    ],
    ["What is machine learning?", "Can someone explain what machine learning is?", "What does machine learning mean?"],
    ["What is deep learning?", "Can someone explain what deep learning is?", "What does deep learning mean?"],
    [
        "How do I prepare for a job interview?",
        "What should I do to get ready for a job interview?",
        "How can I prepare well for an interview?",
    ],
    ["How do I write a good resume?", "What makes a resume stand out?", "How can I make my CV better?"],
    [
        "What is the best smartphone under 300 dollars?",
        "Which phone is best for less than $300?",
        "What is a good cheap smartphone below 300 dollars?",
    ],
    [
        "What is the best laptop for programming?",
        "Which laptop should a programmer buy?",
        "What laptop is good for coding?",
    ],
    ["How do I make a website?", "What are the steps to build a website?", "How can I create my own website?"],
    ["How do I make a mobile app?", "What are the steps to build a phone app?", "How can I create my own app?"],
    [
        "Is it safe to travel to Egypt now?",
        "Is Egypt safe for tourists right now?",
        "Can tourists visit Egypt safely today?",
    ],
    [
        "Is it safe to travel to Mexico now?",
        "Is Mexico safe for tourists right now?",
        "Can tourists visit Mexico safely today?",
    ],
    ["How do I cook rice perfectly?", "What is the best way to cook rice?", "How can I make fluffy rice?"],
    [
        "How do I bake bread at home?",
        "What is an easy way to bake homemade bread?",
        "How can I make bread in my kitchen?",
    ],
    ["What causes headaches?", "Why do people get headaches?", "What are the common reasons for a headache?"],
    ["What causes back pain?", "Why do people get back pain?", "What are the usual reasons for lower back pain?"],
    [
        "How do I become a data scientist?",
        "What does it take to become a data scientist?",
        "How can I start a career in data science?",
    ],
    ["How do I become a doctor?", "What does it take to become a physician?", "How can I start a career in medicine?"],
    ["What is the meaning of life?", "What is the purpose of our lives?", "Why are we alive, what is life for?"],
    [
        "Who will win the next football world cup?",
        "Which team will win the next FIFA World Cup?",
        "Who is favourite to win the coming World Cup?",
    ],
    ["How does a car engine work?", "How do internal combustion engines work?", "What makes a car engine run?"],
    ["How does an electric car work?", "What makes an electric vehicle move?", "How do battery electric cars work?"],
    ["How can I get rid of acne?", "What is the best treatment for pimples?", "How do I clear up acne on my face?"],
    ["How can I get rid of dandruff?", "What is the best treatment for dandruff?", "How do I stop having dandruff?"],
    [
        "What should I read to understand economics?",
        "Which books are good for learning economics?",
        "What are the best books to learn economics?",
    ],
    [
        "What should I read to understand philosophy?",
        "Which books are good for learning philosophy?",
        "What are the best books to start with philosophy?",
    ],
    [
        "How do I train my dog to sit?",
        "What is the best way to teach a dog to sit?",
        "How can I teach my puppy to sit?",
    ],
    [
        "How do I stop my cat scratching furniture?",
        "How can I keep my cat from scratching the sofa?",
        "What stops a cat clawing the furniture?",
    ],
    ["Why do we dream?", "What is the reason humans dream?", "What causes dreams when we sleep?"],
    [
        "How many hours should I sleep?",
        "How much sleep does an adult need?",
        "What is the right amount of sleep per night?",
    ],
    [
        "What is the difference between a virus and bacteria?",
        "How are viruses different from bacteria?",
        "Virus vs bacteria: what is the difference?",
    ],
    [
        "What is the difference between weather and climate?",
        "How is weather different from climate?",
        "Weather vs climate: what is the difference?",
    ],
    [
        "How do I get a US visa?",
        "What is the process to apply for an American visa?",
        "How can I apply for a visa to the USA?",
    ],
    [
        "How do I get a UK visa?",
        "What is the process to apply for a British visa?",
        "How can I apply for a visa to the UK?",
    ],
    ["What are good hobbies to pick up?", "Which hobbies are worth starting?", "What hobby should I take up?"],
    [
        "How do I make friends in a new city?",
        "How can I meet people after moving to a new town?",
        "What is the best way to make friends when you move?",
    ],
    [
        "How can I speed up my slow computer?",
        "Why is my PC so slow and how do I fix it?",
        "What can I do to make my computer faster?",
    ],
    [
        "How can I speed up my slow phone?",
        "Why is my phone so slow and how do I fix it?",
        "What can I do to make my smartphone faster?",
    ],
    ["Is a college degree worth it?", "Is going to university worth the money?", "Does a university degree pay off?"],
    [
        "Should I learn to play the guitar or the piano?",
        "Is guitar or piano better for a beginner?",
        "Which is easier to learn first, piano or guitar?",
    ],
    ["What is the best way to learn to draw?", "How can I get better at drawing?", "How do I teach myself to draw?"],
    [
        "What is the best way to learn to swim as an adult?",
        "How can an adult learn to swim?",
        "How do grown-ups learn swimming?",
    ],
    ["What is inflation?", "Can someone explain what inflation is?", "What does inflation mean in economics?"],
    ["What is a recession?", "Can someone explain what a recession is?", "What does recession mean in economics?"],
]


def main(path: Path = Path(__file__).resolve().parent.parent / "data" / "sample_pairs.csv") -> None:
    rng = random.Random(13)
    rows = []
    for group in GROUPS:
        rows += [(a, b, 1) for a, b in combinations(group, 2)]
    for i, group in enumerate(GROUPS):
        # Negatives come from the other groups of the same block of four, which holds the group written
        # beside it (same topic). Blocks keep the pair graph in small components, so a grouped split works.
        block = range(i - i % 4, min(i - i % 4 + 4, len(GROUPS)))
        for j in block:
            if j == i:
                continue
            for _ in range(3 if j == i ^ 1 else 2):
                rows.append((rng.choice(group), rng.choice(GROUPS[j]), 0))
    rows = list(dict.fromkeys(rows))
    rng.shuffle(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question1", "question2", "is_duplicate"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} pairs to {path}")


if __name__ == "__main__":
    main()
