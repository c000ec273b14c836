"""TinyGPT: a tiny character-level GPT in pure Python.

Every module, in the order the lessons (lessons.html) meet them:

    errors      TinyGPTError: the one exception whose message is meant for people
    settings    every setting in one table (range, default, help) and the recipes
    data        lesson 1: documents, the character tokenizer, the validation split
    value       lesson 2: Value, scalar autograd
    model       lesson 3: config, parameters, the GPT on Values (the scalar engine)
    kernels     lesson 3: generated dot products, the fast engine's inner loop
    fast        lesson 3: the same GPT on whole rows with its own backward (the fast engine)
    optim       lesson 4: Adam with a linearly falling learning rate
    trainer     lesson 4: Trainer, a training run; headline_loss, the loss TinyGPT quotes
    generate    lesson 5: Model: sampling, next-letter probabilities, attention; Letters
    checkpoint  the formats: model files and saved runs, checked field by field
    compact     a model packed into a link's bytes, with the fewest bits that keep its loss
    insides     the playground's "Inside the model" panel: embeddings in 2D, attention
    jsonio      JSON from outside read safely, and the pages' one call protocol
    work        how much work one training step is, and the most the page allows
    scheduler   a model's work in ~20 ms pieces: training, validation, names, the panel
    session     what the playground calls: a run's life from new to discarded
    web         the bridge to the page: the only module that touches the browser
    lessons     the lessons page's Python: code cells and the numbers behind the figures
                (its exercises, checked against the package's pieces: the exercises/ folder)
    stdlib_rest the rest of Python's standard library, fetched when a lesson cell needs it
    export      a model as a standalone PyTorch project
    bench       the benchmarks (the CLI's bench and the benchmark page)
    __main__    the command line: train, sample, eval, export, schema, bench
"""

__version__ = "0.1.0"
