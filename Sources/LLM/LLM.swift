// LLM — module placeholder; its contents arrive with the issue that owns it (see README, Code map).
