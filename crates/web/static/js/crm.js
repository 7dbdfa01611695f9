// crm screens
"use strict";
