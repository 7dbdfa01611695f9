// board screens
"use strict";
