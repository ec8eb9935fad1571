"""The negative-binomial family: DESeq2's method, one step per module; `steps` composes them."""
