def build_prompt(item):
    return "Answer: " + str(item)
