"""Hungry Geese: heads for the nearest food without walking into trouble.

Each step it looks at the four directions, drops turning back, any cell a goose occupies
(its own tail aside, which moves on) and any cell another goose's head could reach this
step, and of what is left takes the one that brings it closest to a piece of food
(distances wrap around the edges). With nothing safe left it goes on straight. Written for Kaggle's observation, so it runs there unchanged.
Strength: outlives random geese in most games; it never plans more than one step ahead.
"""

MOVES = {"NORTH": (-1, 0), "SOUTH": (1, 0), "EAST": (0, 1), "WEST": (0, -1)}
OPPOSITE = {"NORTH": "SOUTH", "SOUTH": "NORTH", "EAST": "WEST", "WEST": "EAST"}
last_move = None


def step_to(cell, move, rows, columns):
    row, column = divmod(cell, columns)
    d_row, d_column = MOVES[move]
    return ((row + d_row) % rows) * columns + (column + d_column) % columns


def distance(a, b, rows, columns):
    (ra, ca), (rb, cb) = divmod(a, columns), divmod(b, columns)
    dr, dc = abs(ra - rb), abs(ca - cb)
    return min(dr, rows - dr) + min(dc, columns - dc)


def agent(observation, configuration):
    global last_move
    rows, columns = configuration.rows, configuration.columns
    geese = observation.geese
    me = geese[observation.index]
    if not me:
        return "NORTH"
    if observation.step == 0:
        last_move = None
    # Another goose's tail may stay (when it eats), so only its own tail counts as moving.
    busy = {cell for goose in geese for cell in goose} - {me[-1]}
    for index, goose in enumerate(geese):
        if index != observation.index and goose:
            busy |= {step_to(goose[0], move, rows, columns) for move in MOVES}
    choices = []
    for move in MOVES:
        if last_move is not None and move == OPPOSITE[last_move]:
            continue
        cell = step_to(me[0], move, rows, columns)
        if cell in busy:
            continue
        near = min((distance(cell, food, rows, columns) for food in observation.food), default=0)
        choices.append((near, move))
    move = min(choices)[1] if choices else (last_move or "NORTH")
    last_move = move
    return move
