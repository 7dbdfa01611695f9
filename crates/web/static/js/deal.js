// deal screens
"use strict";
