"""Knowledge base (知识库): articles with standard answers, searched in the database."""
